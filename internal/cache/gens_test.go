package cache

import (
	"fmt"
	"testing"
)

// An entry still asked for survives generations; one not asked for is gone
// within two, and the map never holds more than its size.
func TestGensKeepsWhatIsUsed(t *testing.T) {
	g := NewGens[int, string](4) // two per generation
	g.Put(1, "a")
	for k := 2; k < 20; k++ {
		if v, ok := g.Get(1); !ok || v != "a" {
			t.Fatalf("after %d puts the entry in use is gone", k-2)
		}
		g.Put(k, fmt.Sprint(k))
		if n := g.Len(); n > 4 {
			t.Fatalf("%d entries held, size 4", n)
		}
	}
	if _, ok := g.Get(2); ok {
		t.Fatal("an entry never asked for again survived")
	}
}

// Lookup finds in both generations, copies back what it took from the old
// one, and never puts an old value over a newer one.
func TestGensLookup(t *testing.T) {
	g := NewGens[int, string](4)
	g.Put(1, "old")
	g.Put(2, "b")
	g.Put(3, "c") // 1 and 2 are now the old generation
	keys := []int{1, 2, 9}
	got := map[int]string{}
	n := g.Lookup(len(keys), func(i int) int { return keys[i] }, func(i int, v string) bool {
		got[keys[i]] = v
		return keys[i] != 2 // refuse one
	})
	if n != 1 || got[1] != "old" || got[2] != "b" || len(got) != 2 {
		t.Fatalf("took %d, saw %v", n, got)
	}
	g.Put(4, "d") // rolls: 1 (copied back) and 3 survive in old
	if v, ok := g.Get(1); !ok || v != "old" {
		t.Fatal("an entry taken from the old generation was not copied back")
	}
	if _, ok := g.Get(2); ok {
		t.Fatal("a refused entry was copied back")
	}
}

// A weighed map holds at most its size by weight, replacing an entry
// counts only the new weight, and a value over half the size is not kept.
func TestWeighedGens(t *testing.T) {
	g := NewWeighedGens[int, string](20, func(v string) int { return len(v) }) // 10 per generation
	g.Put(1, "aaaa")
	g.Put(1, "bbbbbb") // replaced: 6 used, not 10
	g.Put(2, "cccc")
	if v, ok := g.Get(1); !ok || v != "bbbbbb" {
		t.Fatalf("got %q", v)
	}
	g.Put(3, "d") // 11 > 10: a new generation
	g.Put(4, "eeeeeeeee")
	g.Put(5, "f") // and another: 1 and 2 are gone
	for _, k := range []int{1, 2} {
		if _, ok := g.Get(k); ok {
			t.Errorf("entry %d survived two generations", k)
		}
	}
	for _, k := range []int{5, 4} {
		if _, ok := g.Get(k); !ok {
			t.Errorf("entry %d is gone", k)
		}
	}
	g.Put(6, "too long by far")
	if _, ok := g.Get(6); ok {
		t.Fatal("a value heavier than a generation was kept")
	}
	g.Put(5, "too long by far")
	if _, ok := g.Get(5); ok {
		t.Fatal("a value too heavy to keep left the one before it")
	}
	if w := g.Weight(); w > 20 {
		t.Fatalf("weight %d, size 20", w)
	}
}

// Peek finds in the old generation without copying back.
func TestGensPeek(t *testing.T) {
	g := NewGens[int, string](4)
	g.Put(1, "a")
	g.Put(2, "b")
	g.Put(3, "c") // 1 and 2 are the old generation
	if v, ok := g.Peek(1); !ok || v != "a" {
		t.Fatal("Peek missed the old generation")
	}
	g.Put(4, "d")
	g.Put(5, "e") // rolls again: 1 was not copied back, so it is gone
	if _, ok := g.Peek(1); ok {
		t.Fatal("Peek copied an entry back")
	}
}

// Texts tell a collision from a hit and keep nothing past TextMax.
func TestTexts(t *testing.T) {
	x := NewTexts[int](100)
	x.Put([]byte("a,b"), 1)
	if v, ok := x.Get([]byte("a,b")); !ok || v != 1 {
		t.Fatal("a kept text was not found")
	}
	if _, ok := x.Get([]byte("a,c")); ok {
		t.Fatal("another text was found")
	}
	// A collision: the entry under a's hash holds another text.
	x.g.Put(x.hash([]byte("z")), textEntry[int]{"not z", 7})
	if _, ok := x.Get([]byte("z")); ok {
		t.Fatal("a text colliding with another was found")
	}
	texts := [][]byte{[]byte("a,b"), []byte("z"), []byte("none")}
	var hits []int
	if n := x.Lookup(3, func(i int) []byte { return texts[i] }, func(i, v int) { hits = append(hits, i) }); n != 1 || len(hits) != 1 || hits[0] != 0 {
		t.Fatalf("Lookup took %d: %v", n, hits)
	}
	long := make([]byte, TextMax+1)
	x.Put(long, 2)
	if _, ok := x.Get(long); ok {
		t.Fatal("a text longer than TextMax was kept")
	}
}

func BenchmarkTextsGet(b *testing.B) {
	x := NewTexts[int](100)
	key := []byte(`{"tier":"gold","region":"eu"}`)
	x.Put(key, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := x.Get(key); !ok {
			b.Fatal("miss")
		}
	}
}
