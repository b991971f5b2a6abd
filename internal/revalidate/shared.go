package revalidate

import (
	"context"
	"runtime"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// Reads of the feed are shared. A request may trust a read only if it began
// after the request arrived: then it saw every commit the request must see.
// So a request joins the read about to begin if there is one, else starts
// one; a request that finds a read under way (begun, perhaps, before its
// write was committed) waits for the next, which begins when that one ends.
// A read about to begin first lets the other runnable requests reach it
// (runtime.Gosched), so under load a poll costs a fraction of a statement,
// and never sees less than a statement of its own would have.

// round is one read of the feed and its outcome.
type round struct {
	done  chan struct{}
	begun bool // under Feed.rmu: too late to join
	ok    bool
}

// Changes reads the feed from since, at most limit rows: domain.Store.Changes.
type Changes func(ctx context.Context, since int64, limit int) ([]domain.Change, error)

// Refresh makes the feed seen include every row committed before it was
// called, reading it with read or sharing a read begun since, and reports
// whether it does (false: a failed read or a gap; the caller reads the
// answer instead).
func (f *Feed) Refresh(ctx context.Context, read Changes) bool {
	f.rmu.Lock()
	if f.running == nil {
		r := &round{done: make(chan struct{})}
		f.running = r
		f.rmu.Unlock()
		return f.lead(ctx, r, read)
	}
	if r := f.running; !r.begun {
		f.rmu.Unlock()
		return wait(ctx, r)
	}
	if next := f.next; next != nil {
		f.rmu.Unlock()
		return wait(ctx, next)
	}
	next, running := &round{done: make(chan struct{})}, f.running
	f.next = next
	f.rmu.Unlock()
	select {
	case <-running.done:
		return f.lead(ctx, next, read)
	case <-ctx.Done():
		// Others may be waiting on next: it still has to run.
		go func() {
			<-running.done
			f.lead(ctx, next, read)
		}()
		return false
	}
}

// readMax bounds a shared read, which runs past its leader's cancellation
// (others wait for it) and, with --query-timeout 0, under no other bound.
const readMax = 5 * time.Second

// lead runs r's read, then lets the round that waited for it start; a
// read that panics fails its round, and the next still starts.
func (f *Feed) lead(ctx context.Context, r *round, read Changes) (ok bool) {
	defer func() {
		f.rmu.Lock()
		f.running, f.next = f.next, nil
		f.rmu.Unlock()
		r.ok = ok
		close(r.done)
	}()
	// Not cancelled with its own request: others wait for its result.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.readMax)
	defer cancel()
	runtime.Gosched()
	f.rmu.Lock()
	r.begun = true
	f.rmu.Unlock()
	since := f.Since()
	rows, err := read(ctx, since, ReadLimit)
	return err == nil && f.Read(since, rows)
}

func wait(ctx context.Context, r *round) bool {
	select {
	case <-r.done:
		return r.ok
	case <-ctx.Done():
		return false
	}
}
