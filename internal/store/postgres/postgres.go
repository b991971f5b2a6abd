// Package postgres is the PostgreSQL store (github.com/jackc/pgx/v5), for
// deployments that outgrow one machine: several stateless servers share one
// primary, and may send the memberships read to a replica whose replay lag
// is bounded (replica.go).
//
// It imports domain, ids (id leases), store/fragment (the shared query
// path; query.go is this store's SQL), store/load (the shared loader;
// load.go is this store's dialect), store/migrate and tracing (spans of
// its statements, trace.go); never another store or the server. Tests
// reach the pool through export_test.go; other packages' tests open their
// own (storetest.RawDB).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/fragment"
	"github.com/wachtbench/memberships/internal/store/migrate"
	"github.com/wachtbench/memberships/internal/tracing"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is what Migrate applies; a variable so a test can try a broken one.
var migrations fs.FS = migrationFiles

// derived is the derived schema, every trigger and its functions
// (derived.sql), applied after the migrations whenever its checksum
// changes; a variable for tests.
//
//go:embed derived.sql
var derived []byte

// Options tune the pools; zero values take the defaults below.
type Options struct {
	// ReadURL, when set, is a replica (a streaming standby) that serves the
	// memberships read. Deployments, their keys and sessions are always read
	// on the primary: a key just rotated, a token just minted, or a session
	// just revoked must count at once, and a token must be verified with the
	// key that signs its successor. While the replica does not answer, or
	// lags more than MaxReplicaLag, that read goes to the primary.
	ReadURL string
	// ReadCheckInterval is how often the replica is probed (each probe may
	// take as long): one that fails sends reads to the primary, one that
	// succeeds sends them back. A read the replica refuses or drops is
	// retried on the primary at once, without waiting for a probe.
	ReadCheckInterval time.Duration
	// MaxReplicaLag bounds how stale a read on the replica may be: each
	// probe (then every min(ReadCheckInterval, MaxReplicaLag/4)) compares
	// the replica's replay position with the primary's WAL, and while a
	// change committed on the primary longer ago than the bound may be
	// missing there, or the lag cannot be measured, reads go to the
	// primary. 0 takes DefaultMaxReplicaLag; NoReplicaLagBound: no bound.
	MaxReplicaLag time.Duration
	// Logger hears about replica failover and return; nil: silence.
	Logger *slog.Logger
	// MaxConns is the size of each pool (primary, replica).
	MaxConns int32
	// ConnectTimeout bounds opening a connection.
	ConnectTimeout time.Duration
	// StatementTimeout is the server-side statement_timeout of every connection.
	StatementTimeout time.Duration
	// TracerProvider, when set, gets a span for every statement sent on
	// behalf of a traced request (trace.go); nil: no tracing.
	TracerProvider trace.TracerProvider
}

// DefaultMaxConns is pgx's own default pool size: as many connections as
// the instance has cores, at least 4. A request holds a connection for one
// round trip, so a few keep the instance's cores busy; more only add
// backends and context switches (docs/operations.md: 10 instead cost about
// 15 % of the throughput at 10 memberships, the database on the same cores),
// and every instance's pool counts against max_connections.
var DefaultMaxConns = int32(max(4, runtime.GOMAXPROCS(0)))

// Other defaults of Options.
const (
	DefaultConnectTimeout    = 5 * time.Second
	DefaultStatementTimeout  = 10 * time.Second
	DefaultReadCheckInterval = time.Second
	DefaultMaxReplicaLag     = 5 * time.Second
	// NoReplicaLagBound is the MaxReplicaLag of a replica used whatever its
	// lag (0 already means the default).
	NoReplicaLagBound time.Duration = -1
)

// Store is a domain.Store on a PostgreSQL primary and an optional replica.
type Store struct {
	primary      *pgxpool.Pool
	replica      *pgxpool.Pool // nil without one
	replicaDown  atomic.Bool   // reads go to the primary meanwhile
	replicaLag   replicaLag    // and while it lags past the bound
	count        atomic.Int64  // statements on both pools
	replicaCount atomic.Int64  // statements on the replica
	log          *slog.Logger
	stopWatch    context.CancelFunc
	watching     sync.WaitGroup

	fragments *fragment.Cache
}

var _ domain.Store = (*Store)(nil)

// IsURL reports whether a database URL names PostgreSQL.
func IsURL(s string) bool {
	s = strings.ToLower(s)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// UseFragments makes the store share c (a cache of its own by default);
// call it before the store is used.
func (s *Store) UseFragments(c *fragment.Cache) { s.fragments = c }

// Redact hides the password of a URL, for logs.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://…" // unparsable: show nothing that might be secret
	}
	return u.Redacted()
}

// Open connects to the database at url (and the replica of opts). It does not
// migrate; call Migrate.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	s := &Store{log: opts.Logger, fragments: fragment.NewCache(0)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.primary, err = s.pool(ctx, url, opts, nil); err != nil {
		return nil, err
	}
	if opts.ReadURL != "" {
		if s.replica, err = s.pool(ctx, opts.ReadURL, opts, &s.replicaCount); err != nil {
			s.primary.Close()
			return nil, fmt.Errorf("read replica: %w", err)
		}
		s.replicaLag.init(opts.MaxReplicaLag)
		interval := orDefault(opts.ReadCheckInterval, DefaultReadCheckInterval)
		if b := s.replicaLag.bound; b > 0 {
			interval = min(interval, b/4)
		}
		// Measure once before serving, so reads need not start on the
		// primary (a lag not yet measured sends them there).
		w := s.newWatcher(interval)
		w.check(ctx)
		wctx, stop := context.WithCancel(context.Background())
		s.stopWatch = stop
		s.watching.Go(func() { w.run(wctx) })
	}
	return s, nil
}

// pool opens a pool; its statements add to s.count, and to also if not nil.
func (s *Store) pool(ctx context.Context, url string, opts Options, also *atomic.Int64) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, fmt.Errorf("postgres: cannot parse the database URL %s", Redact(url))
	}
	cfg.MaxConns = orDefault(opts.MaxConns, DefaultMaxConns)
	cfg.ConnConfig.ConnectTimeout = orDefault(opts.ConnectTimeout, DefaultConnectTimeout)
	timeout := orDefault(opts.StatementTimeout, DefaultStatementTimeout)
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)
	cfg.ConnConfig.Tracer = counter{&s.count, also}
	if spans := tracing.NewStatements(opts.TracerProvider, scope, tracing.PostgreSQL); spans != nil {
		cfg.ConnConfig.Tracer = tracedCounter{counter{&s.count, also}, spans}
	}
	cfg.AfterConnect = registerMicros
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// pgxpool connects lazily: fail now, not on the first request.
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(url), err)
	}
	return p, nil
}

func orDefault[T int32 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// counter counts every statement sent, at the driver: queries, execs and the
// BEGIN, COMMIT and ROLLBACK of transactions all pass TraceQueryStart.
// Preparing a statement is not counted: it runs nothing.
type counter struct{ n, also *atomic.Int64 }

func (c counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if ctx.Value(probing{}) != nil {
		return ctx // the replica watcher's, not a request's
	}
	c.n.Add(1)
	if c.also != nil {
		c.also.Add(1)
	}
	return ctx
}

func (counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// probing marks the contexts of the replica watcher's statements, which
// Statements and ReplicaStatements leave out.
type probing struct{}

// Statements is the number of SQL statements sent so far, on both pools,
// the replica watcher's aside.
func (s *Store) Statements() int64 { return s.count.Load() }

// ReplicaStatements is the number of SQL statements sent to the replica.
func (s *Store) ReplicaStatements() int64 { return s.replicaCount.Load() }

// Close stops probing the replica and closes the pools.
func (s *Store) Close() error {
	if s.replica != nil {
		s.stopWatch()
		s.watching.Wait()
		s.replica.Close()
	}
	s.primary.Close()
	return nil
}

// Ping checks the primary answers a query. A replica that does not is no
// reason to be unready: reads fail over to the primary.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.primary.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// migrationLock is the advisory lock key that serialises concurrent Migrate
// calls (several instances starting at once).
const migrationLock = 0x6d656d62 // "memb"

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations, in order, each in its own transaction, so a failing one
// leaves the schema as it was.
func (s *Store) Migrate(ctx context.Context) error {
	if err := pgx.BeginFunc(ctx, s.primary, func(tx pgx.Tx) error {
		if err := migrationsTable(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		return migrate.Check(migrations, applied, releasedOutOfOrder)
	}); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if err := migrate.Each(migrations, func(version string, body []byte) error {
		return s.migrate(ctx, version, body)
	}); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := s.applyDerived(ctx); err != nil {
		return fmt.Errorf("postgres: derived schema: %w", err)
	}
	return nil
}

// applyDerived applies derived.sql when the checksum recorded differs from
// its own: every trigger of the schema dropped, the file run (functions
// replaced; its end recomputes every derived column), the checksum
// recorded, in one transaction under the migration lock. Before the
// migration the file is written against is applied (a test's older
// schema), it is left alone.
func (s *Store) applyDerived(ctx context.Context) error {
	schema, sum, err := migrate.Derived(derived)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.primary, func(tx pgx.Tx) error {
		if err := migrationsTable(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_derived (checksum text NOT NULL)`); err != nil {
			return err
		}
		var ready, current bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1),
			EXISTS (SELECT 1 FROM schema_derived WHERE checksum = $2)`, schema, sum).Scan(&ready, &current); err != nil {
			return err
		}
		if !ready || current {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT format('DROP TRIGGER %I ON %I', g.tgname, r.relname)
			FROM pg_trigger g JOIN pg_class r ON r.oid = g.tgrelid
			WHERE r.relnamespace = current_schema()::regnamespace AND NOT g.tgisinternal`)
		if err != nil {
			return err
		}
		drops, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, d := range drops {
			if _, err := tx.Exec(ctx, d); err != nil {
				return err
			}
		}
		// Function bodies are checked when they run: the file creates them
		// in name order, not in the order they call each other.
		if _, err := tx.Exec(ctx, `SET LOCAL check_function_bodies = off`); err != nil {
			return err
		}
		// Without arguments pgx uses the simple protocol, which runs a
		// file of several statements.
		if _, err := tx.Exec(ctx, string(derived)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM schema_derived`); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO schema_derived (checksum) VALUES ($1)`, sum)
		return err
	})
}

// releasedOutOfOrder are the migrations released numbered before others
// already released: databases of that time may lack them below applied ones.
var releasedOutOfOrder = map[string]bool{"0002_member_counts": true, "0003_fragment_versions": true}

// migrationsTable takes the migration lock (held until commit, so
// concurrent migrators apply each migration exactly once, and none sees a
// half-created schema_migrations) and makes sure the table exists.
func migrationsTable(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text        PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`)
	return err
}

func (s *Store) migrate(ctx context.Context, version string, body []byte) error {
	return pgx.BeginFunc(ctx, s.primary, func(tx pgx.Tx) error {
		if err := migrationsTable(ctx, tx); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// Without arguments pgx uses the simple protocol, which runs a
		// file of several statements.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version)
		return err
	})
}

// Empty reports whether no deployment exists.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var empty bool
	err := s.primary.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM deployments)`).Scan(&empty)
	return empty, err
}

// notFound maps pgx's "no rows" to domain.ErrNotFound with a description.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf(format+": %w", append(args, domain.ErrNotFound)...)
	}
	return err
}
