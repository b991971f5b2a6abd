// Package sqlite is the embedded SQLite store (modernc.org/sqlite, pure Go).
//
// Several processes may share one database file: the server reads and writes
// while the token and load commands write. WAL lets readers run beside a
// writer, write transactions begin IMMEDIATE so that waiting for the write lock
// goes through busy_timeout instead of failing with "database is locked", and
// every pooled connection gets the same pragmas from the DSN.
//
// It imports domain, ids (id leases), store/fragment (the shared query
// path; query.go is this store's SQL), store/load (the shared loader;
// load.go is this store's dialect), store/migrate and tracing (spans of
// its statements, trace.go); never another store or the server. Tests
// reach the pool through export_test.go; other packages' tests open their
// own (storetest.RawDB).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/fragment"
	"github.com/wachtbench/memberships/internal/store/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is what Migrate applies; a variable so a test can try a broken one.
var migrations fs.FS = migrationFiles

// derived is the derived schema, every trigger (derived.sql), applied after
// the migrations whenever its checksum changes; a variable for tests.
//
//go:embed derived.sql
var derived []byte

// Store is a domain.Store on one SQLite database file.
type Store struct {
	db    *sql.DB
	count atomic.Int64

	mu    sync.Mutex
	stmts map[string]*sql.Stmt

	spans spans // UseTracing

	fragments *fragment.Cache
}

var _ domain.Store = (*Store)(nil)

// connParams apply to every connection the pool opens, before the memory
// map's mmap_size (mmapParam).
const connParams = "_pragma=busy_timeout(5000)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_txlock=immediate"

// The memory map (mmap_size): SQLite reads up to that much of the file
// through a map instead of a pread into each connection's private page
// cache: with more data than that cache (2 MiB), the copies and system calls
// were a third of a request's CPU (BENCHMARKS.md, in its git history). The map is
// address space, not memory; the pages it touches are the kernel's page
// cache, held once for all connections and processes, but each connection
// maps them itself, so RSS counts them once per connection. Another program
// truncating the file in place makes a read of a mapped page past its end a
// SIGBUS, fatal to the process (docs/operations.md); without the map (0) SQLite reads
// what is there, and a damaged file is an error.
const (
	// DefaultMMapSize is Open's map: 1 GiB per connection.
	DefaultMMapSize = 1 << 30
	// MaxMMapSize is the largest map SQLite makes (SQLITE_MAX_MMAP_SIZE);
	// it would silently lower a larger mmap_size to it.
	MaxMMapSize = 0x7fff0000
)

func mmapParam(size int64) string { return fmt.Sprintf("&_pragma=mmap_size(%d)", size) }

// dsn turns a path, "sqlite://path" or a "file:" URI into the driver's DSN with
// the connection parameters the store relies on, and names the file to watch
// ("" for a URI, whose file the caller manages). A plain path becomes a URI
// in mode=rw: once the file exists, a connection never creates an empty one
// in its place (see countingConn.ResetSession).
func dsn(path string, mmapSize int64) (dsn, file string) {
	params := connParams + mmapParam(mmapSize)
	path = strings.TrimPrefix(path, "sqlite://")
	if strings.HasPrefix(path, "file:") {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return path + sep + params, ""
	}
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?mode=rw&" + params, path
}

// Open opens (creating it if needed) the database at path with the default
// memory map. It does not migrate; call Migrate.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenMapped(ctx, path, DefaultMMapSize)
}

// OpenMapped is Open with each connection reading at most mmapSize bytes of
// the file through a memory map; 0 turns the map off.
func OpenMapped(ctx context.Context, path string, mmapSize int64) (*Store, error) {
	if strings.TrimPrefix(path, "sqlite://") == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if mmapSize < 0 || mmapSize > MaxMMapSize {
		return nil, fmt.Errorf("sqlite: a memory map of %d bytes is not between 0 and %d", mmapSize, MaxMMapSize)
	}
	dsn, file := dsn(path, mmapSize)
	if file != "" {
		f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		f.Close()
	}
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s := &Store{stmts: map[string]*sql.Stmt{}, fragments: fragment.NewCache(0)}
	s.db = sql.OpenDB(countingConnector{Connector: base, n: &s.count, file: file, seen: &fileSeen{}, spans: &s.spans})
	// Every connection a request may use stays open: a new one re-reads the
	// schema, runs the pragmas, re-prepares statements and starts with a cold
	// page cache, which under load costs more than the query. SQLite work is
	// CPU-bound in-process, so more connections than cores only contend (on
	// 2 cores, 8 connections cost ~35% more per request than 2, measured with
	// 16 parallel requests); two spare ones keep reads going while a write
	// waits for the lock.
	conns := runtime.GOMAXPROCS(0) + 2
	s.db.SetMaxOpenConns(conns)
	s.db.SetMaxIdleConns(conns)
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// UseFragments makes the store share c (a cache of its own by default);
// call it before the store is used.
func (s *Store) UseFragments(c *fragment.Cache) { s.fragments = c }

// Close closes the prepared statements and the database.
func (s *Store) Close() error {
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = map[string]*sql.Stmt{}
	s.mu.Unlock()
	return s.db.Close()
}

// Statements is the number of SQL statements sent to SQLite so far, counted at
// the driver (BEGIN, COMMIT and ROLLBACK included).
func (s *Store) Statements() int64 { return s.count.Load() }

// Ping checks the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Replica implements domain.Store: SQLite has no read replica.
func (s *Store) Replica() domain.ReplicaState { return domain.ReplicaState{} }

// prepared returns the statement for query, preparing it on first use; the
// request path runs the same few statements over and over.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.stmts[query] = st
	return st, nil
}

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations, in order, each in its own transaction, so a failing one
// leaves the schema as it was.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT    PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	applied, err := s.appliedMigrations(ctx)
	if err == nil {
		err = migrate.Check(migrations, applied, releasedOutOfOrder)
	}
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if err := migrate.Each(migrations, func(version string, body []byte) error {
		return s.migrate(ctx, version, body)
	}); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := s.applyDerived(ctx); err != nil {
		return fmt.Errorf("sqlite: derived schema: %w", err)
	}
	return nil
}

// applyDerived applies derived.sql when the checksum recorded differs from
// its own: every trigger dropped, the file run (its end recomputes every
// derived column), the checksum recorded, in one transaction. Before the
// migration the file is written against is applied (a test's older
// schema), it is left alone.
func (s *Store) applyDerived(ctx context.Context) error {
	schema, sum, err := migrate.Derived(derived)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// A write first takes the write lock, so two processes starting at once
	// apply it once.
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_derived (checksum TEXT NOT NULL) STRICT;
		UPDATE schema_derived SET checksum = checksum`); err != nil {
		return err
	}
	var ready, current bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?),
		EXISTS (SELECT 1 FROM schema_derived WHERE checksum = ?)`, schema, sum).Scan(&ready, &current); err != nil {
		return err
	}
	if !ready || current {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'trigger'`)
	if err != nil {
		return err
	}
	var triggers []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		triggers = append(triggers, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range triggers {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, string(derived)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM schema_derived; INSERT INTO schema_derived (checksum) VALUES (?)`, sum); err != nil {
		return err
	}
	return tx.Commit()
}

// releasedOutOfOrder are the migrations released numbered before others
// already released: databases of that time may lack them below applied ones.
var releasedOutOfOrder = map[string]bool{"0002_member_counts": true, "0003_fragment_versions": true}

func (s *Store) appliedMigrations(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Store) migrate(ctx context.Context, version string, body []byte) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Checked inside the write transaction, so two processes migrating at
	// once apply each migration exactly once.
	var done bool
	if err := tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, version).Scan(&done); err != nil {
		return err
	}
	if done {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		version, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}

// Empty reports whether no deployment exists.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var empty bool
	err := s.db.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM deployments)`).Scan(&empty)
	return empty, err
}
