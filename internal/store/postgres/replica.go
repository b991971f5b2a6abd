package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// onReplica runs read on the replica, or on the primary without one or while
// the replica is marked down. A read the replica fails to answer (refused,
// dropped, shut down) marks it down and runs once more on the primary, so a
// replica that stops costs no request an error; one that hangs costs the
// requests that time out before the next probe marks it down.
func (s *Store) onReplica(ctx context.Context, read func(*pgxpool.Pool) error) error {
	if s.replica == nil || s.replicaDown.Load() {
		return read(s.primary)
	}
	err := read(s.replica)
	if !unreachable(err) || ctx.Err() != nil {
		return err
	}
	s.markReplica(false, err)
	return read(s.primary)
}

// ReplicaUp reports whether reads go to the replica now: false without one
// or while it is marked down.
func (s *Store) ReplicaUp() bool { return s.replica != nil && !s.replicaDown.Load() }

// watchReplica probes the replica every interval until ctx ends, each probe
// bounded by the interval, and marks it up or down by the answer.
func (s *Store) watchReplica(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, interval)
		err := s.replica.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		s.markReplica(err == nil, err)
	}
}

// markReplica records whether the replica serves reads, logging a change.
func (s *Store) markReplica(up bool, err error) {
	if s.replicaDown.Swap(!up) == !up {
		return
	}
	if up {
		s.log.Info("read replica answers again: reads go back to it")
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
