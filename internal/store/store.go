// Package store opens the store a database URL names (sqlite or postgres,
// below it, with the loader they share in store/load and their conformance
// suite in store/storetest) and seals signing keys at rest (sealed.go). It
// imports domain, keyring and the stores; cli, bench and demo import it.
package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/fragment"
	"github.com/wachtbench/memberships/internal/store/postgres"
	"github.com/wachtbench/memberships/internal/store/sqlite"
)

// Options tune a store; SQLite (one file, no pool to tune) takes only
// MMapSize. Zero values take the store's defaults.
type Options struct {
	// ReadURL is an optional read replica (PostgreSQL only) serving the
	// request path's reads; sessions always use the primary.
	ReadURL string
	// ReadCheckInterval is how often the replica is probed; while it does
	// not answer, reads go to the primary.
	ReadCheckInterval time.Duration
	// MaxReplicaLag bounds the replica's staleness: past it, or while it
	// cannot be measured, reads go to the primary. 0 takes the default;
	// NoReplicaLagBound: no bound.
	MaxReplicaLag time.Duration
	// Logger hears about replica failover; nil: silence.
	Logger *slog.Logger
	// MaxConns is the size of each connection pool.
	MaxConns int32
	// ConnectTimeout bounds opening a connection.
	ConnectTimeout time.Duration
	// StatementTimeout bounds every statement, on the server.
	StatementTimeout time.Duration
	// Fragments is the cache of encoded answer fragments the store fills
	// (fragment.NewCache); when nil, the store has one of the default size.
	Fragments *fragment.Cache
	// MMapSize is the most of a SQLite file each connection reads through a
	// memory map: 0 takes DefaultMMapSize, NoMMap turns the map off.
	// PostgreSQL ignores it.
	MMapSize int64
	// TracerProvider, when set, gets a span for every SQL statement a
	// traced request sends (internal/tracing); nil: no tracing.
	TracerProvider trace.TracerProvider
}

// Memory map settings of Options (SQLite only).
const (
	DefaultMMapSize = sqlite.DefaultMMapSize
	MaxMMapSize     = sqlite.MaxMMapSize
	// NoMMap is the MMapSize without a map: 0 already means the default.
	NoMMap int64 = -1
)

// DefaultMaxConns is the default pool size for PostgreSQL: the instance's
// cores, at least 4.
var DefaultMaxConns = postgres.DefaultMaxConns

// Other defaults of Options for PostgreSQL.
const (
	DefaultConnectTimeout    = postgres.DefaultConnectTimeout
	DefaultStatementTimeout  = postgres.DefaultStatementTimeout
	DefaultReadCheckInterval = postgres.DefaultReadCheckInterval
	DefaultMaxReplicaLag     = postgres.DefaultMaxReplicaLag
	NoReplicaLagBound        = postgres.NoReplicaLagBound
)

// IsPostgres reports whether url names PostgreSQL (postgres:// or
// postgresql://); anything else is a SQLite path or sqlite://path.
func IsPostgres(url string) bool { return postgres.IsURL(url) }

// Redact returns url fit for logs and output: a PostgreSQL URL without its
// password; a SQLite path as it is.
func Redact(url string) string {
	if IsPostgres(url) {
		return postgres.Redact(url)
	}
	return url
}

// Open opens and migrates the store at url.
func Open(ctx context.Context, url string, opts Options) (domain.Store, error) {
	var s domain.Store
	if IsPostgres(url) {
		pg, err := postgres.Open(ctx, url, postgres.Options{
			ReadURL: opts.ReadURL, MaxConns: opts.MaxConns,
			ConnectTimeout: opts.ConnectTimeout, StatementTimeout: opts.StatementTimeout,
			ReadCheckInterval: opts.ReadCheckInterval, MaxReplicaLag: opts.MaxReplicaLag, Logger: opts.Logger,
			TracerProvider: opts.TracerProvider,
		})
		if err != nil {
			return nil, err
		}
		if opts.Fragments != nil {
			pg.UseFragments(opts.Fragments)
		}
		s = pg
	} else {
		if opts.ReadURL != "" {
			return nil, errors.New("a read replica needs a PostgreSQL database (postgres://…)")
		}
		mmap := opts.MMapSize
		switch mmap {
		case 0:
			mmap = DefaultMMapSize
		case NoMMap:
			mmap = 0
		}
		lite, err := sqlite.OpenMapped(ctx, url, mmap)
		if err != nil {
			return nil, err
		}
		if opts.Fragments != nil {
			lite.UseFragments(opts.Fragments)
		}
		lite.UseTracing(opts.TracerProvider)
		s = lite
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
