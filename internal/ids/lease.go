package ids

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// A node lease gives one holder a node number and a range of milliseconds,
// up to Until, in which it alone mints ids on that node. A holder mints
// nothing past its Until without renewing, and whoever takes a node over
// starts after the previous holder's Until, so ids are unique by
// construction: different nodes differ in their node bits, and one node's
// successive holders use disjoint milliseconds, whatever their clocks say.

// Lease is a holder's right to mint on Node in the milliseconds From..Until.
type Lease struct {
	Node  int64
	From  int64 // 0 for a renewal: the holder carries on where it was
	Until int64
}

// NodeRow is one row of a store's node lease table.
type NodeRow struct {
	Node   int64
	Holder string
	Until  int64
}

// Leaser is a store that keeps node leases: it reads the lease table, asks
// Grant which row to write, and writes it, in one transaction.
type Leaser interface {
	LeaseNode(ctx context.Context, holder string, now, span int64) (Lease, error)
}

// ErrNoNode: every node is leased by a live holder.
var ErrNoNode = errors.New("ids: every node number is leased")

// Span is how long a lease lasts, in milliseconds: a Source renews about
// this often while it mints, and a node left by a stopped holder is free
// again this long after its last renewal.
const Span = 60_000

// Grant decides the lease holder gets at now (milliseconds since the epoch)
// from the table's rows: its own node, renewed; else the lowest node never
// leased; else the node whose lease ended longest ago, taken over after its
// Until. It returns the row to write and the lease.
func Grant(rows []NodeRow, holder string, now, span int64) (NodeRow, Lease, error) {
	used := make(map[int64]bool, len(rows))
	var expired *NodeRow
	for i, r := range rows {
		used[r.Node] = true
		if r.Holder == holder {
			row := NodeRow{Node: r.Node, Holder: holder, Until: max(r.Until, now) + span}
			return row, Lease{Node: r.Node, Until: row.Until}, nil
		}
		if r.Until < now && (expired == nil || r.Until < expired.Until) {
			expired = &rows[i]
		}
	}
	for n := int64(0); n < Nodes; n++ {
		if !used[n] {
			row := NodeRow{Node: n, Holder: holder, Until: now + span}
			return row, Lease{Node: n, Until: row.Until}, nil
		}
	}
	if expired == nil {
		return NodeRow{}, Lease{}, ErrNoNode
	}
	from := expired.Until + 1
	row := NodeRow{Node: expired.Node, Holder: holder, Until: max(now, from) + span}
	return row, Lease{Node: row.Node, From: from, Until: row.Until}, nil
}

// Source mints ids on a node leased from a store, renewing the lease as it
// goes (a round trip about once per Span while minting). Safe for
// concurrent use.
type Source struct {
	leaser Leaser
	holder string
	now    func() time.Time
	clock  clock // guarded by clock.mu, as is lease
	lease  Lease
	leased bool
}

// NewSource returns a Source leasing from l; now is the clock (time.Now
// when nil).
func NewSource(l Leaser, now func() time.Time) *Source {
	if now == nil {
		now = time.Now
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return &Source{leaser: l, holder: hex.EncodeToString(b[:]), now: now}
}

// New returns a fresh id, unique among every Source on the database.
func (s *Source) New(ctx context.Context) (int64, error) {
	c := &s.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	ms, seq := c.tick(Millis(s.now()))
	if !s.leased || ms > s.lease.Until {
		l, err := s.leaser.LeaseNode(ctx, s.holder, ms, Span)
		if err != nil {
			return 0, fmt.Errorf("leasing an id node: %w", err)
		}
		if !s.leased || l.Node != c.node {
			c.node, seq = l.Node, 0
		}
		if l.From > ms { // taken over (perhaps our own old node): start after its last holder
			ms, seq = l.From, 0
		}
		s.lease, s.leased = l, true
	}
	c.lastMS, c.seq = ms, seq
	return c.id(), nil
}
