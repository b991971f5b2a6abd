package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wachtbench/memberships/internal/domain"
)

// onReplica runs read on the replica, or on the primary without one, while
// the replica is marked down, or while it lags past the bound (or its lag is
// not known). A read the replica fails to answer (refused, dropped, shut
// down) marks it down and runs once more on the primary, so a replica that
// stops costs no request an error; one that hangs costs the requests that
// time out before the next probe marks it down.
func (s *Store) onReplica(ctx context.Context, read func(*pgxpool.Pool) error) error {
	if !s.ReplicaUp() {
		return read(s.primary)
	}
	err := read(s.replica)
	if !unreachable(err) || ctx.Err() != nil {
		return err
	}
	s.markReplica(false, err)
	return read(s.primary)
}

// ReplicaUp reports whether reads go to the replica now: false without one,
// while it is marked down, or while it lags past the bound.
func (s *Store) ReplicaUp() bool {
	return s.replica != nil && !s.replicaDown.Load() && !s.replicaLag.behind.Load()
}

// Replica implements domain.Store.
func (s *Store) Replica() domain.ReplicaState {
	if s.replica == nil {
		return domain.ReplicaState{}
	}
	lag := s.replicaLag.lag.Load()
	return domain.ReplicaState{Configured: true, InUse: s.ReplicaUp(), Answers: !s.replicaDown.Load(),
		LagKnown: lag >= 0, Lag: time.Duration(max(lag, 0)), MaxLag: s.replicaLag.bound}
}

// replicaLag is the replica's lag as the watcher last measured it, read by
// every request through atomics: a bound costs requests no statement.
type replicaLag struct {
	bound    time.Duration // 0: none
	interval time.Duration // between measures
	behind   atomic.Bool   // over the bound, or not measured: reads go to the primary
	lag      atomic.Int64  // nanoseconds; -1: not measured
}

func (l *replicaLag) init(bound time.Duration) {
	switch {
	case bound == 0:
		l.bound = DefaultMaxReplicaLag
	case bound > 0:
		l.bound = bound
	}
	l.lag.Store(-1)
	l.behind.Store(l.bound > 0) // fail safe until measured
}

// set records a measure (negative: none) and reports whether the replica is
// now behind. A measure is at most one interval old when the next one comes,
// so reads leave the replica once its lag passes the bound less an interval:
// no read between two measures is staler than the bound.
func (l *replicaLag) set(lag time.Duration) (behind, changed bool) {
	l.lag.Store(int64(max(lag, -1)))
	if l.bound <= 0 {
		return false, false
	}
	behind = lag < 0 || lag > l.bound-l.interval
	return behind, l.behind.Swap(behind) != behind
}

// watcher probes the replica and measures its lag every interval.
type watcher struct {
	s   *Store
	wal walHistory
}

func (s *Store) newWatcher(interval time.Duration) *watcher {
	s.replicaLag.interval = interval
	return &watcher{s: s}
}

// run checks every interval until ctx ends.
func (w *watcher) run(ctx context.Context) {
	tick := time.NewTicker(w.s.replicaLag.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		w.check(ctx)
	}
}

// Positions in the WAL as bigint: pg_lsn minus 0/0 is its byte offset.
const (
	primaryLSNSQL = `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint`
	// NULL on a server not in recovery: not a standby, its lag unknowable.
	replayLSNSQL = `SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint`
)

// check probes the replica (marking it up or down) and measures its lag:
// the primary's WAL position first, then the replica's replay position, each
// bounded by the interval. Whatever cannot be measured counts as behind.
func (w *watcher) check(ctx context.Context) {
	s := w.s
	pctx, cancel := context.WithTimeout(context.WithValue(ctx, probing{}, true), s.replicaLag.interval)
	defer cancel()
	at := time.Now()
	var primary int64
	perr := s.primary.QueryRow(pctx, primaryLSNSQL).Scan(&primary)
	var replay *int64
	rerr := s.replica.QueryRow(pctx, replayLSNSQL).Scan(&replay)
	if ctx.Err() != nil {
		return
	}
	s.markReplica(rerr == nil, rerr)
	lag, why := time.Duration(-1), ""
	switch {
	case rerr != nil:
		why = "the replica does not answer"
	case perr != nil:
		why = "the primary's WAL position is unknown: " + perr.Error()
	case replay == nil:
		why = "the replica is not a standby in recovery: it has no replay position"
	default:
		w.wal.add(at, primary)
		if lag = w.wal.lag(*replay, time.Now()); lag < 0 {
			why = "the replica has not replayed the WAL the primary had when first measured"
		}
	}
	behind, changed := s.replicaLag.set(lag)
	switch {
	case !changed:
	case behind && lag < 0:
		s.log.Warn("read replica lag unknown: reads go to the primary", "why", why)
	case behind:
		s.log.Warn("read replica lags past the bound: reads go to the primary", "lag", lag, "max_lag", s.replicaLag.bound)
	default:
		s.log.Info("read replica within the lag bound: reads go to it", "lag", lag, "max_lag", s.replicaLag.bound)
	}
}

// walHistory remembers when the primary's WAL was at which position. Every
// change committed before a sample's time lies at or before its position,
// so a replica that has replayed up to it misses nothing older: its lag is
// at most the age of the newest sample it has replayed. Unlike the replay
// timestamp, this holds when the primary is idle (nothing to replay is no
// lag) and when replay is paused or stuck while the primary writes.
type walHistory struct{ samples []walSample } // oldest first

type walSample struct {
	at  time.Time
	lsn int64
}

// maxWALSamples bounds the history of a replica that stays behind: past it,
// the second oldest goes, so the oldest still bounds the lag.
const maxWALSamples = 1024

// add records that the primary's WAL was at lsn at time at.
func (h *walHistory) add(at time.Time, lsn int64) {
	if n := len(h.samples); n > 0 && h.samples[n-1].lsn >= lsn {
		h.samples[n-1].at = at // the same position, still current later
		return
	}
	h.samples = append(h.samples, walSample{at, lsn})
	if len(h.samples) > maxWALSamples {
		h.samples = slices.Delete(h.samples, 1, 2)
	}
}

// lag is the most a replica that has replayed up to replay can lag at now,
// or -1 when it has not replayed even the oldest sample. Samples older than
// the newest one replayed are forgotten: replay only moves forward.
func (h *walHistory) lag(replay int64, now time.Time) time.Duration {
	for i := len(h.samples) - 1; i >= 0; i-- {
		if h.samples[i].lsn <= replay {
			h.samples = slices.Delete(h.samples, 0, i)
			return max(now.Sub(h.samples[0].at), 0)
		}
	}
	return -1
}

// markReplica records whether the replica serves reads, logging a change.
func (s *Store) markReplica(up bool, err error) {
	if s.replicaDown.Swap(!up) == !up {
		return
	}
	if up {
		s.log.Info("read replica answers again")
	} else {
		s.log.Warn("read replica does not answer: reads go to the primary", "err", err)
	}
}

// unreachable reports whether err says the server could not be reached or
// went away, rather than that the query itself failed.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 08: connection exception; 57P: shutting down, cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}
