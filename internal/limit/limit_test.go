package limit

import (
	"net/netip"
	"runtime"
	"testing"
	"time"
)

func TestTake(t *testing.T) {
	k := New[string](3, 10) // 3 a minute: one token every 20 s
	now := time.Unix(1_700_000_000, 0)
	if k.Wait("a", now) != 0 {
		t.Fatal("a key never seen must not wait")
	}
	for i := range 3 {
		if wait := k.Take("a", now); wait != 0 {
			t.Fatalf("take %d refused, wait %v", i, wait)
		}
	}
	wait := k.Take("a", now)
	if wait <= 0 || wait > 20*time.Second || Seconds(wait) != 20 {
		t.Fatalf("4th take: wait %v, want 20s", wait)
	}
	if w := k.Wait("a", now.Add(5*time.Second)); Seconds(w) != 15 {
		t.Errorf("Wait 5 s later: %v, want 15s", w)
	}
	if wait := k.Take("b", now); wait != 0 {
		t.Errorf("another key shares the bucket: wait %v", wait)
	}
	if wait := k.Take("a", now.Add(20*time.Second)); wait != 0 {
		t.Errorf("no token after 20 s: wait %v", wait)
	}
	if k.Wait("a", now.Add(20*time.Second)) == 0 {
		t.Errorf("the token taken at 20 s is still there")
	}
}

func TestZeroDisables(t *testing.T) {
	var k *Keyed[string] = New[string](0, 10)
	for range 1000 {
		if k.Take("a", time.Now()) != 0 || k.Wait("a", time.Now()) != 0 {
			t.Fatal("a disabled limit refused")
		}
	}
	if k.Len() != 0 {
		t.Error("a disabled limit remembers keys")
	}
}

// 200,000 distinct addresses leave at most size buckets, and the heap grows
// by a few MiB, not by one bucket per address ever seen.
func TestMemoryBounded(t *testing.T) {
	const size, addresses = BucketsPerLimit, 200_000
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	k := New[netip.Prefix](30, size)
	now := time.Now()
	for i := range addresses {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		k.Take(netip.PrefixFrom(a, 32), now)
	}
	grown := int64(heap()) - int64(before)
	runtime.KeepAlive(k)
	t.Logf("%d addresses: %d buckets, heap grew %.1f MiB", addresses, k.Len(), float64(grown)/(1<<20))
	if k.Len() != size {
		t.Errorf("%d buckets, want %d", k.Len(), size)
	}
	if grown > 4<<20 {
		t.Errorf("heap grew %d bytes for %d addresses, want at most 4 MiB", grown, addresses)
	}
}
