// Package ids makes 64-bit ids in the style of the Wacht platform's snowflakes:
// milliseconds since an epoch in the high bits, then a node number, then a
// sequence, so ids sort by creation time and exceed 2^53 (a JSON number could
// not carry them, which is why the API serialises them as strings).
//
// Two kinds of node number:
//   - New, for offline tools (the loader, seed), takes a random one: their ids
//     go into tables the server never inserts into, in one all-or-nothing load.
//   - A Source, for the server and the token command (sessions, sign-ins,
//     rotating tokens), leases one in the database (lease.go), so instances on
//     one database never mint the same id.
//
// It imports no other package of the module.
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
	// Nodes is how many node numbers there are.
	Nodes = 1 << nodeBits
)

// Millis is t in milliseconds since the ids' epoch.
func Millis(t time.Time) int64 { return t.UnixMilli() - epoch }

var random = clock{node: rand.Int64N(Nodes)}

// New returns a fresh id, unique within this process and increasing.
func New() int64 {
	random.mu.Lock()
	defer random.mu.Unlock()
	return random.next(Millis(time.Now()))
}

// clock is one node's last millisecond and sequence.
type clock struct {
	mu     sync.Mutex
	node   int64
	lastMS int64
	seq    int64
}

// tick returns the millisecond and sequence the next id takes at wall-clock
// ms: never before the last one, even if the clock steps back.
func (c *clock) tick(ms int64) (int64, int64) {
	if ms > c.lastMS {
		return ms, 0
	}
	if c.seq+1 < 1<<seqBits {
		return c.lastMS, c.seq + 1
	}
	return c.lastMS + 1, 0
}

func (c *clock) next(ms int64) int64 {
	c.lastMS, c.seq = c.tick(ms)
	return c.id()
}

func (c *clock) id() int64 { return c.lastMS<<(nodeBits+seqBits) | c.node<<seqBits | c.seq }
