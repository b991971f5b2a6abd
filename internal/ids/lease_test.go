package ids

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// table is a node lease table in memory, granting through Grant as the
// stores do inside a transaction.
type table struct {
	mu   sync.Mutex
	rows []NodeRow
}

func (tb *table) LeaseNode(_ context.Context, holder string, now, span int64) (Lease, error) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	row, l, err := Grant(tb.rows, holder, now, span)
	if err != nil {
		return Lease{}, err
	}
	for i := range tb.rows {
		if tb.rows[i].Node == row.Node {
			tb.rows[i] = row
			return l, nil
		}
	}
	tb.rows = append(tb.rows, row)
	return l, nil
}

func TestGrant(t *testing.T) {
	rows := []NodeRow{{Node: 0, Holder: "a", Until: 100}, {Node: 1, Holder: "b", Until: 50}, {Node: 3, Holder: "c", Until: 40}}
	for _, tc := range []struct {
		name    string
		rows    []NodeRow
		holder  string
		now     int64
		want    Lease
		wantErr error
	}{
		{"own node, renewed from its Until", rows, "a", 70, Lease{Node: 0, Until: 110}, nil},
		{"own node after a pause, renewed from now", rows, "b", 80, Lease{Node: 1, Until: 90}, nil},
		{"the lowest node never leased", rows, "d", 80, Lease{Node: 2, Until: 90}, nil},
		{"full: the longest-ended lease, after its Until", full(func(r *NodeRow) { r.Until = 1000 + r.Node }), "x", 1500, Lease{Node: 0, From: 1001, Until: 1510}, nil},
		{"full, taken over ahead of a clock behind", full(func(r *NodeRow) { r.Until = 1000 - r.Node }), "x", 2000, Lease{Node: 1023, From: 1000 - 1023 + 1, Until: 2010}, nil},
		{"full and every lease live", full(func(r *NodeRow) { r.Until = 5000 }), "x", 1500, Lease{}, ErrNoNode},
	} {
		_, got, err := Grant(tc.rows, tc.holder, tc.now, 10)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: %+v %v, want %+v %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func full(set func(*NodeRow)) []NodeRow {
	rows := make([]NodeRow, Nodes)
	for i := range rows {
		rows[i] = NodeRow{Node: int64(i), Holder: "other"}
		set(&rows[i])
	}
	return rows
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// A node taken over from a holder whose clock disagrees: the ids of the
// two never meet, whichever clock is ahead.
func TestTakeoverAcrossSkewedClocks(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, skew := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
		tb := &table{}
		for n := int64(1); n < Nodes; n++ { // every node but 0 held by live holders
			tb.rows = append(tb.rows, NodeRow{Node: n, Holder: "other", Until: 1 << 50})
		}
		ca, cb := &fakeClock{t: t0.Add(skew)}, &fakeClock{t: t0}
		a, b := NewSource(tb, ca.now), NewSource(tb, cb.now)
		seen := map[int64]string{}
		mint := func(name string, s *Source, n int) {
			t.Helper()
			for range n {
				id, err := s.New(ctx)
				if err != nil {
					t.Fatalf("skew %v, %s: %v", skew, name, err)
				}
				if prev, dup := seen[id]; dup {
					t.Fatalf("skew %v: %s minted %d, already minted by %s", skew, name, id, prev)
				}
				seen[id] = name
			}
		}
		mint("a", a, 5000) // more than one millisecond's sequence
		// b's clock passes a's Until: b takes node 0 over.
		cb.set(time.UnixMilli(epoch + a.lease.Until + 1))
		mint("b", b, 5000)
		// a, its clock still within its lease, mints on: still distinct.
		ca.set(ca.now().Add(Span/2*time.Millisecond - time.Second))
		mint("a", a, 5000)
		// Past its Until, a must renew: its node is gone and no other is free.
		ca.set(time.UnixMilli(epoch + a.lease.Until + 1))
		if _, err := a.New(ctx); !errors.Is(err, ErrNoNode) {
			t.Fatalf("skew %v: a minted past its lease: %v", skew, err)
		}
	}
}

// BenchmarkSourceNew: minting on a leased node, the lease renewed once per
// Span (in memory here; a store adds a transaction per renewal).
func BenchmarkSourceNew(b *testing.B) {
	s := NewSource(&table{}, nil)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.New(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
