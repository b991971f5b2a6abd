package cache

import (
	"testing"
	"time"
)

func TestTTLExpires(t *testing.T) {
	c := NewTTL[string, int](10)
	now := time.Unix(1_800_000_000, 0)
	c.Put("a", 1, now.Add(time.Second), now)
	if v, ok := c.Get("a", now); !ok || v != 1 {
		t.Fatalf("fresh entry: %v %v", v, ok)
	}
	if _, ok := c.Get("a", now.Add(time.Second)); ok {
		t.Fatal("entry served at its expiry")
	}
	c.Put("a", 2, now.Add(time.Minute), now)
	c.Delete("a")
	if _, ok := c.Get("a", now); ok {
		t.Fatal("deleted entry served")
	}
}

func TestTTLBounded(t *testing.T) {
	c := NewTTL[int, int](100)
	now := time.Unix(1_800_000_000, 0)
	for i := range 10_000 {
		c.Put(i, i, now.Add(time.Hour), now)
		if c.Len() > 100 {
			t.Fatalf("%d entries after %d puts", c.Len(), i+1)
		}
	}
	// The newest entry always survives its own insert.
	if v, ok := c.Get(9_999, now); !ok || v != 9_999 {
		t.Fatal("newest entry missing")
	}
}

func TestTTLEvictsExpiredFirst(t *testing.T) {
	c := NewTTL[int, int](2)
	now := time.Unix(1_800_000_000, 0)
	c.Put(1, 1, now.Add(time.Hour), now)
	c.Put(2, 2, now.Add(time.Second), now)
	later := now.Add(time.Minute) // 2 has expired, 1 has not
	c.Put(3, 3, later.Add(time.Hour), later)
	if _, ok := c.Get(1, later); !ok {
		t.Fatal("a live entry was evicted while an expired one was there")
	}
}
