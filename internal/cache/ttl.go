// Package cache holds the server's in-memory caches: a bounded map of
// entries that expire (TTL), a bounded map in two generations for values
// that never go stale (Gens, Texts), and a store decorator that remembers
// deployments and sessions for a short, configured time.
//
// It imports only domain.
package cache

import (
	"sync"
	"time"
)

// TTL is a map of at most a fixed number of entries, each kept until its own
// expiry. When full, an insert first drops expired entries and then, if
// still full, an arbitrary one: a cache flooded with one-off keys stays
// bounded, at worst costing a miss. Safe for concurrent use.
type TTL[K comparable, V any] struct {
	mu      sync.Mutex
	max     int
	entries map[K]ttlEntry[V]
	gen     uint64 // advanced by every Delete
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

// NewTTL returns a cache of at most size entries (at least 1).
func NewTTL[K comparable, V any](size int) *TTL[K, V] {
	return &TTL[K, V]{max: max(size, 1), entries: make(map[K]ttlEntry[V])}
}

// Get returns k's value if it is present and now is before its expiry.
func (c *TTL[K, V]) Get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v under k until expires.
func (c *TTL[K, V]) Put(k K, v V, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(k, v, expires, now)
}

// Gen is the cache's generation, which every Delete advances. A value read
// from the source after Gen goes in with PutSince, which drops it if a
// Delete happened meanwhile: a read that began before a revocation must not
// put the revoked state back.
func (c *TTL[K, V]) Gen() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// PutSince stores v under k until expires, unless a Delete happened since
// Gen returned gen.
func (c *TTL[K, V]) PutSince(gen uint64, k K, v V, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.put(k, v, expires, now)
	}
}

func (c *TTL[K, V]) put(k K, v V, expires, now time.Time) {
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[k] = ttlEntry[V]{v: v, expires: expires}
}

// Delete forgets k and advances the generation.
func (c *TTL[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.entries, k)
	c.gen++
	c.mu.Unlock()
}

// Len is the number of entries held, expired ones included.
func (c *TTL[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// evict makes room for one entry; the caller holds mu. Map iteration order
// is random, so the scan is bounded and the victim arbitrary.
func (c *TTL[K, V]) evict(now time.Time) {
	const scan = 16
	n := 0
	var victim K
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		} else if n == 0 {
			victim = k
		}
		if n++; n == scan {
			break
		}
	}
	if len(c.entries) >= c.max {
		delete(c.entries, victim)
	}
}
