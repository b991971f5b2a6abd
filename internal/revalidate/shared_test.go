package revalidate

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// table is a change feed: reads see the rows committed when they begin.
type table struct {
	mu    sync.Mutex
	rows  []domain.Change
	reads atomic.Int64
}

func (tb *table) commit(c domain.Change) {
	tb.mu.Lock()
	tb.rows = append(tb.rows, c)
	tb.mu.Unlock()
}

// read returns the rows from since as of its start, then waits for hold.
func (tb *table) read(hold <-chan struct{}) Changes {
	return func(_ context.Context, since int64, _ int) ([]domain.Change, error) {
		tb.reads.Add(1)
		tb.mu.Lock()
		var out []domain.Change
		for _, r := range tb.rows {
			if r.Seq >= since {
				out = append(out, r)
			}
		}
		tb.mu.Unlock()
		if hold != nil {
			<-hold
		}
		return out, nil
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// A request that arrives while a read is in flight must not trust it: the
// read may have begun before the request's write was committed.
func TestRefreshNeverTrustsAReadBegunBefore(t *testing.T) {
	f := kept(t)
	tb := &table{rows: []domain.Change{ch(10, 0, 0)}}
	hold := make(chan struct{})
	first := make(chan bool)
	go func() { first <- f.Refresh(context.Background(), tb.read(hold)) }()
	waitFor(t, func() bool { return tb.reads.Load() == 1 })

	tb.commit(ch(11, domain.ChangedWorkspace, 100)) // after the read began
	second := make(chan bool)
	go func() { second <- f.Refresh(context.Background(), tb.read(nil)) }()
	waitFor(t, func() bool { f.rmu.Lock(); defer f.rmu.Unlock(); return f.next != nil })
	close(hold)

	if !<-first || !<-second {
		t.Fatal("a read continuing the feed was not taken")
	}
	if tb.reads.Load() != 2 {
		t.Fatalf("%d reads, want 2", tb.reads.Load())
	}
	if f.Current("e", in) {
		t.Fatal("the answer is current though its workspace changed before the request")
	}
}

// Requests that wait together share one read.
func TestRefreshShares(t *testing.T) {
	f := kept(t)
	tb := &table{rows: []domain.Change{ch(10, 0, 0)}}
	hold := make(chan struct{})
	done := make(chan bool)
	go func() { done <- f.Refresh(context.Background(), tb.read(hold)) }()
	waitFor(t, func() bool { return tb.reads.Load() == 1 })
	const waiting = 20
	var joined atomic.Int64
	for range waiting {
		go func() { joined.Add(1); done <- f.Refresh(context.Background(), tb.read(nil)) }()
	}
	waitFor(t, func() bool { return joined.Load() == waiting })
	time.Sleep(20 * time.Millisecond) // let them reach the feed
	close(hold)
	for range waiting + 1 {
		if !<-done {
			t.Fatal("a shared read was not taken")
		}
	}
	if n := tb.reads.Load(); n >= waiting {
		t.Fatalf("%d reads for %d requests: not shared", n, waiting+1)
	}
	if !f.Current("e", in) {
		t.Fatal("nothing changed, yet the answer is not current")
	}
}

// A failed read fails everyone who shared it, and the next request reads again.
func TestRefreshFailedRead(t *testing.T) {
	f := kept(t)
	var reads atomic.Int64
	failing := func(context.Context, int64, int) ([]domain.Change, error) {
		reads.Add(1)
		return nil, errors.New("database is down")
	}
	if f.Refresh(context.Background(), failing) {
		t.Fatal("a failed read was taken")
	}
	tb := &table{rows: []domain.Change{ch(10, 0, 0)}}
	if !f.Refresh(context.Background(), tb.read(nil)) || tb.reads.Load() != 1 {
		t.Fatal("after a failed read the next request did not read again")
	}
}

// A waiting request whose context ends stops waiting, untrusted.
func TestRefreshCancelledWaiter(t *testing.T) {
	f := kept(t)
	tb := &table{rows: []domain.Change{ch(10, 0, 0)}}
	hold := make(chan struct{})
	defer close(hold)
	go f.Refresh(context.Background(), tb.read(hold))
	waitFor(t, func() bool { return tb.reads.Load() == 1 })
	go f.Refresh(context.Background(), tb.read(hold)) // leads the next round
	waitFor(t, func() bool { f.rmu.Lock(); defer f.rmu.Unlock(); return f.next != nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if f.Refresh(ctx, tb.read(nil)) {
		t.Fatal("a cancelled request trusted a read it never saw")
	}
}

// A read that panics fails its round without stopping the feed: the next
// request reads again.
func TestRefreshPanickingRead(t *testing.T) {
	f := kept(t)
	func() {
		defer func() { recover() }()
		f.Refresh(context.Background(), func(context.Context, int64, int) ([]domain.Change, error) { panic("driver bug") })
	}()
	tb := &table{rows: []domain.Change{ch(10, 0, 0)}}
	done := make(chan bool)
	go func() { done <- f.Refresh(context.Background(), tb.read(nil)) }()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("the read after a panic was not taken")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the feed is stuck after a read panicked")
	}
}

// A read that never returns on its own (a hung database, no query timeout)
// ends after readMax, and a request waiting to lead the next read gives up
// with its own context without leaving the next round unled.
func TestRefreshHungRead(t *testing.T) {
	f := kept(t)
	f.readMax = 50 * time.Millisecond
	hung := func(ctx context.Context, _ int64, _ int) ([]domain.Change, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	first := make(chan bool)
	go func() { first <- f.Refresh(context.Background(), hung) }()
	waitFor(t, func() bool { f.rmu.Lock(); defer f.rmu.Unlock(); return f.running != nil && f.running.begun })

	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan bool)
	tb := &table{rows: []domain.Change{ch(10, 0, 0)}}
	go func() { second <- f.Refresh(ctx, tb.read(nil)) }()
	waitFor(t, func() bool { f.rmu.Lock(); defer f.rmu.Unlock(); return f.next != nil })
	third := make(chan bool)
	go func() { third <- f.Refresh(context.Background(), tb.read(nil)) }() // waits on next
	cancel()
	if <-second {
		t.Fatal("a request that gave up trusted a read")
	}
	if <-first {
		t.Fatal("a read cut off by readMax was trusted")
	}
	select {
	case ok := <-third:
		if !ok || tb.reads.Load() != 1 {
			t.Fatal("the round after a hung read was not read and shared")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the round its leader gave up on never ran")
	}
}
