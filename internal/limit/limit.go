// Package limit keeps a token bucket (golang.org/x/time/rate) per key in a
// bounded LRU, so a flood of distinct keys costs bounded memory: the least
// recently seen key's bucket is forgotten first, which only ever makes the
// limit more lenient for that key, never stricter for another.
//
// It imports no other package of the module.
package limit

import (
	"math"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// BucketsPerLimit is how many keys a limit remembers: a few hundred bytes
// each, so about 3 MiB however many keys come and go.
const BucketsPerLimit = 8192

// Keyed is a rate limit per key: perMinute requests a minute, in bursts of
// up to perMinute. A nil *Keyed allows everything.
type Keyed[K comparable] struct {
	every   rate.Limit
	burst   int
	buckets *lru.Cache[K, *rate.Limiter]
}

// New returns a limit of perMinute per key that remembers at most size keys,
// or nil (no limit) when perMinute is 0.
func New[K comparable](perMinute, size int) *Keyed[K] {
	if perMinute <= 0 {
		return nil
	}
	buckets, err := lru.New[K, *rate.Limiter](size)
	if err != nil {
		panic(err) // size <= 0: a programming error
	}
	return &Keyed[K]{every: rate.Limit(float64(perMinute) / 60), burst: perMinute, buckets: buckets}
}

func (k *Keyed[K]) bucket(key K) *rate.Limiter {
	if b, ok := k.buckets.Get(key); ok {
		return b
	}
	b := rate.NewLimiter(k.every, k.burst)
	if prev, found, _ := k.buckets.PeekOrAdd(key, b); found {
		return prev
	}
	return b
}

// Take spends one token of key's bucket at now. When the bucket is empty it
// spends nothing and returns how long until a token is available again.
func (k *Keyed[K]) Take(key K, now time.Time) (wait time.Duration) {
	if k == nil {
		return 0
	}
	r := k.bucket(key).ReserveN(now, 1)
	if wait = r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
	}
	return wait
}

// Wait is how long until key's bucket holds a token again, spending
// nothing: 0 when it holds one, or when key has no bucket yet.
func (k *Keyed[K]) Wait(key K, now time.Time) time.Duration {
	if k == nil {
		return 0
	}
	b, ok := k.buckets.Get(key)
	if !ok {
		return 0
	}
	if tokens := b.TokensAt(now); tokens < 1 {
		return time.Duration((1 - tokens) / float64(k.every) * float64(time.Second))
	}
	return 0
}

// Len is the number of keys remembered.
func (k *Keyed[K]) Len() int {
	if k == nil {
		return 0
	}
	return k.buckets.Len()
}

// Seconds rounds a wait up to whole seconds, at least 1: a Retry-After value.
func Seconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
