package cache

import (
	"hash/maphash"
	"sync"
)

// Gens is a bounded map in two generations, the one eviction scheme of the
// caches on the request path: new entries go into the current generation;
// when it is full it becomes the old one and the old one is dropped, so an
// entry still in use survives by being copied back on a hit, and one no
// longer asked for is gone within two generations. No clock, no list, no
// per-entry bookkeeping. Safe for concurrent use.
//
// Nothing expires: it suits values that never go stale under their key (a
// version, a pointer, the text they were derived from), or that say
// themselves how far they may be trusted (revalidate's answers). Put
// replaces; a copy back never replaces a newer value.
type Gens[K comparable, V any] struct {
	mu       sync.RWMutex
	cur, old map[K]V
	max      int         // weight per generation
	used     int         // by cur
	oldUsed  int         // by old, when it was cur
	weigh    func(V) int // nil: each entry weighs 1
}

// NewGens returns a map of at most size entries (at least 2).
func NewGens[K comparable, V any](size int) *Gens[K, V] {
	return &Gens[K, V]{cur: make(map[K]V), old: map[K]V{}, max: max(size/2, 1)}
}

// NewWeighedGens returns a map whose entries weigh at most size in all, by
// weigh (bytes, say); a value weighing more than a generation's half of
// it is never kept (and Put drops what its key held).
func NewWeighedGens[K comparable, V any](size int, weigh func(V) int) *Gens[K, V] {
	g := NewGens[K, V](size)
	g.weigh = weigh
	return g
}

// Get returns k's value.
func (g *Gens[K, V]) Get(k K) (V, bool) {
	g.mu.RLock()
	v, ok := g.cur[k]
	if ok {
		g.mu.RUnlock()
		return v, true
	}
	v, ok = g.old[k]
	g.mu.RUnlock()
	if ok {
		g.promote(k, v)
	}
	return v, ok
}

// Peek returns k's value without copying it back from the old generation
// (a look before a Put).
func (g *Gens[K, V]) Peek(k K) (V, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if v, ok := g.cur[k]; ok {
		return v, true
	}
	v, ok := g.old[k]
	return v, ok
}

// Lookup calls hit(i, v) for each i < n whose key(i) is held, all under one
// read lock (a request's lookups at once), and reports how many hit took
// (it may refuse a value: Texts does, for another text of the same hash).
func (g *Gens[K, V]) Lookup(n int, key func(int) K, hit func(int, V) bool) int {
	var (
		taken int
		back  []int // taken from the old generation
	)
	g.mu.RLock()
	for i := range n {
		k := key(i)
		if v, ok := g.cur[k]; ok {
			if hit(i, v) {
				taken++
			}
		} else if v, ok := g.old[k]; ok && hit(i, v) {
			taken++
			back = append(back, i)
		}
	}
	g.mu.RUnlock()
	if len(back) > 0 {
		g.mu.Lock()
		for _, i := range back {
			k := key(i)
			if v, ok := g.old[k]; ok {
				g.copyBackLocked(k, v)
			}
		}
		g.mu.Unlock()
	}
	return taken
}

func (g *Gens[K, V]) promote(k K, v V) {
	g.mu.Lock()
	g.copyBackLocked(k, v)
	g.mu.Unlock()
}

// copyBackLocked puts an old generation's v into the current one, unless a
// newer value is there already.
func (g *Gens[K, V]) copyBackLocked(k K, v V) {
	if _, ok := g.cur[k]; !ok {
		g.putLocked(k, v)
	}
}

// Put stores v under k.
func (g *Gens[K, V]) Put(k K, v V) {
	g.mu.Lock()
	g.putLocked(k, v)
	g.mu.Unlock()
}

func (g *Gens[K, V]) putLocked(k K, v V) {
	if prev, ok := g.cur[k]; ok {
		g.used -= g.weight(prev)
		delete(g.cur, k)
	}
	w := g.weight(v)
	if w > g.max {
		delete(g.old, k) // Put replaces, even with nothing
		return
	}
	if g.used+w > g.max {
		g.old, g.cur, g.oldUsed, g.used = g.cur, make(map[K]V, len(g.cur)), g.used, 0
	}
	g.cur[k] = v
	g.used += w
}

// Weight is what the entries held weigh, in both generations (one held in
// both counts twice; the old generation's as it was when it filled).
func (g *Gens[K, V]) Weight() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.used + g.oldUsed
}

// MaxWeight is the heaviest value kept: half the size.
func (g *Gens[K, V]) MaxWeight() int { return g.max }

func (g *Gens[K, V]) weight(v V) int {
	if g.weigh == nil {
		return 1
	}
	return g.weigh(v)
}

// Len is the number of entries held, in both generations (one held in
// both counts twice).
func (g *Gens[K, V]) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.cur) + len(g.old)
}

// Texts is a Gens keyed by texts handed over as bytes (a scanned column,
// reused for the next row), looked up without copying them: by their hash,
// each entry holding its text to tell a collision from a hit. Texts longer
// than TextMax are never kept: a key of megabytes written through plain SQL
// would otherwise stay for as long as it is read.
type Texts[V any] struct {
	g    *Gens[uint64, textEntry[V]]
	seed maphash.Seed
}

// TextMax is the longest text a Texts keeps.
const TextMax = 4 << 10

type textEntry[V any] struct {
	text string
	v    V
}

// NewTexts returns a map of at most size texts.
func NewTexts[V any](size int) *Texts[V] {
	return &Texts[V]{g: NewGens[uint64, textEntry[V]](size), seed: maphash.MakeSeed()}
}

// Get returns the value kept for text b.
func (t *Texts[V]) Get(b []byte) (V, bool) {
	if len(b) > TextMax {
		var zero V
		return zero, false
	}
	e, ok := t.g.Get(t.hash(b))
	if !ok || e.text != string(b) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Lookup calls hit(i, v) for each i < n whose text(i) is kept, under one
// read lock, and reports how many were.
func (t *Texts[V]) Lookup(n int, text func(int) []byte, hit func(int, V)) int {
	return t.g.Lookup(n, func(i int) uint64 { return t.hash(text(i)) }, func(i int, e textEntry[V]) bool {
		if b := text(i); len(b) > TextMax || e.text != string(b) {
			return false
		}
		hit(i, e.v)
		return true
	})
}

// Put keeps v for text b (a copy of it), unless b is longer than TextMax.
func (t *Texts[V]) Put(b []byte, v V) {
	if len(b) <= TextMax {
		t.g.Put(t.hash(b), textEntry[V]{string(b), v})
	}
}

func (t *Texts[V]) hash(b []byte) uint64 { return maphash.Bytes(t.seed, b) }

// Len is the number of texts held (Gens.Len).
func (t *Texts[V]) Len() int { return t.g.Len() }
