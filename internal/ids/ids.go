// Package ids makes 64-bit ids in the style of the Wacht platform's snowflakes:
// milliseconds since an epoch in the high bits, then a random per-process node
// number (so two processes writing one database do not collide), then a
// sequence, so ids sort by creation time and exceed 2^53 (a JSON number could not carry
// them, which is why the API serialises them as strings).
package ids

import (
	"math/rand/v2"
	"sync"
	"time"
)

// epoch is 2024-01-01T00:00:00Z.
const epoch = 1704067200000

const (
	nodeBits = 10
	seqBits  = 12
)

var (
	node   = rand.Int64N(1 << nodeBits)
	mu     sync.Mutex
	lastMS int64
	seq    int64
)

// New returns a fresh id, unique within this process and increasing.
func New() int64 {
	mu.Lock()
	defer mu.Unlock()
	ms := time.Now().UnixMilli() - epoch
	if ms <= lastMS {
		ms = lastMS
		seq++
		if seq >= 1<<seqBits {
			ms++
			seq = 0
		}
	} else {
		seq = 0
	}
	lastMS = ms
	return ms<<(nodeBits+seqBits) | node<<seqBits | seq
}
