package sqlite

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// openTemp opens and migrates a store on path.
func openTemp(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	return storetest.Migrated(t, s, err)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) domain.Store {
		path := filepath.Join(t.TempDir(), "test.db")
		return storetest.Mutable(t, openTemp(t, path), path)
	})
}

func TestOpenForms(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{
		filepath.Join(dir, "plain.db"),
		"sqlite://" + filepath.Join(dir, "url.db"),
		"file:" + filepath.Join(dir, "uri.db"),
		"file:" + filepath.Join(dir, "uri-query.db") + "?cache=private",
	} {
		s := openTemp(t, path)
		var fk, busy, mmap int
		var journal, sync string
		db := s.DB()
		// Read from one connection after several are open: the pragmas hold
		// for every pooled connection.
		conns := make([]interface{ Close() error }, 3)
		for i := range conns {
			c, err := db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			conns[i] = c
		}
		for _, c := range conns {
			c.Close()
		}
		if err := db.QueryRow(`SELECT foreign_keys, timeout, journal_mode, synchronous
			FROM pragma_foreign_keys, pragma_busy_timeout, pragma_journal_mode, pragma_synchronous`).
			Scan(&fk, &busy, &journal, &sync); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`PRAGMA mmap_size`).Scan(&mmap); err != nil {
			t.Fatal(err)
		}
		if fk != 1 || busy != 5000 || journal != "wal" || sync != "1" || mmap != 1<<30 {
			t.Errorf("%s: foreign_keys=%d busy_timeout=%d journal_mode=%s synchronous=%s mmap_size=%d", path, fk, busy, journal, sync, mmap)
		}
	}
	if _, err := Open(t.Context(), "sqlite://"); err == nil {
		t.Error("Open(sqlite://) succeeded")
	}
}

func TestMigrateFailureChangesNothing(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "test.db"))
	// The real migrations (already applied), then a broken one.
	fsys, applied := storetest.WithBrokenMigration(t, migrationFiles, "CREATE TABLE half_done (id INTEGER);\nTHIS IS NOT SQL;")
	migrations = fsys
	t.Cleanup(func() { migrations = migrationFiles })

	if err := s.Migrate(t.Context()); err == nil || !strings.Contains(err.Error(), "9999_broken") {
		t.Fatalf("Migrate with a broken migration: %v", err)
	}
	var versions string
	var half int
	if err := s.DB().QueryRow(`SELECT group_concat(version, ',' ORDER BY version) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'`).Scan(&half); err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(applied, ","); versions != want || half != 0 {
		t.Errorf("after a failed migration: versions %q, half_done tables %d; want %q and 0", versions, half, want)
	}
}

// TestStatementsPerRequest counts, at the driver, the statements of the
// request path and checks Memberships costs the same however much it returns.
func TestStatementsPerRequest(t *testing.T) {
	storetest.StatementsPerRequest(t, openTemp(t, filepath.Join(t.TempDir(), "test.db")))
}

// TestConcurrentProcesses has two stores on one file, as the server and the
// token or load command are: one writes sessions in a loop while the other
// loads a data set and reads. Nothing may fail with "database is locked".
// Processes sharing one file mint distinct ids.
func TestIDsAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	var stores []domain.Store
	for range 3 {
		stores = append(stores, openTemp(t, path))
	}
	storetest.IDsAcrossStores(t, stores)
}

func TestConcurrentProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	ctx := t.Context()
	var server, cli *Store
	for _, s := range []**Store{&server, &cli} {
		var err error
		if *s, err = Open(ctx, path); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*s).Close() })
	}
	// Both start together and migrate the new file: a transaction that reads
	// schema_migrations before it writes, which only BEGIN IMMEDIATE keeps
	// from failing with SQLITE_BUSY.
	var migrating sync.WaitGroup
	for _, s := range []*Store{server, cli} {
		migrating.Go(func() {
			if err := s.Migrate(ctx); err != nil {
				t.Errorf("concurrent Migrate: %v", err)
			}
		})
	}
	migrating.Wait()
	base, q := storetest.Scaled(1, 20)
	if err := server.Load(ctx, base); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	stop := make(chan struct{})
	const sessions = 200
	wg.Go(func() { // the token command
		defer close(stop) // the reader reads until the writer is done
		now := time.Now()
		for i := range int64(sessions) {
			err := cli.CreateSession(ctx, domain.NewSession{DeploymentID: q.DeploymentID, UserID: q.UserID,
				SessionID: 10_000 + i, SignInID: 20_000 + i, RotatingTokenID: 30_000 + i,
				CreatedAt: now, SignInExpiresAt: now.Add(time.Hour), TokenValidUntil: now.Add(time.Hour)})
			if err != nil {
				errs <- err
			}
		}
	})
	wg.Go(func() { // the server: loads, then reads until the writer is done
		for seed := int64(2); seed < 6; seed++ {
			ds, _ := storetest.Scaled(seed, 50)
			if err := server.Load(ctx, ds); err != nil {
				errs <- err
			}
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := server.Memberships(ctx, q); err != nil {
				errs <- err
			}
			if _, err := server.Session(ctx, q.DeploymentID, 10_000); err != nil && !errors.Is(err, domain.ErrNotFound) {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := server.Session(ctx, q.DeploymentID, 10_000+sessions-1)
	if err != nil || st.SignIn == nil {
		t.Errorf("last session written by the other store: %+v, %v", st, err)
	}
}

