package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/migrate"
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
	for _, mmap := range []int64{DefaultMMapSize, 0, 256 << 20} {
		dir := t.TempDir()
		plain := filepath.Join(dir, "plain.db")
		for _, path := range []string{
			plain,
			"sqlite://" + filepath.Join(dir, "url.db"),
			"file:" + filepath.Join(dir, "uri.db"),
			"file:" + filepath.Join(dir, "uri-query.db") + "?cache=private",
		} {
			s, err := OpenMapped(t.Context(), path, mmap)
			s = storetest.Migrated(t, s, err)
			var fk, busy int
			var size int64
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
			if err := db.QueryRow(`PRAGMA mmap_size`).Scan(&size); err != nil {
				t.Fatal(err)
			}
			if fk != 1 || busy != 5000 || journal != "wal" || sync != "1" || size != mmap {
				t.Errorf("%s: foreign_keys=%d busy_timeout=%d journal_mode=%s synchronous=%s mmap_size=%d, want mmap_size=%d",
					path, fk, busy, journal, sync, size, mmap)
			}
			// The pragma is what SQLite does: the file is mapped only with a map.
			if path == plain && storetest.Mapped(t, path) != (mmap > 0) {
				t.Errorf("mmap_size %d: mapped = %v", mmap, !(mmap > 0))
			}
		}
	}
	if s, err := Open(t.Context(), filepath.Join(t.TempDir(), "default.db")); err != nil {
		t.Fatal(err)
	} else {
		var size int64
		if err := s.DB().QueryRow(`PRAGMA mmap_size`).Scan(&size); err != nil || size != DefaultMMapSize {
			t.Errorf("Open: mmap_size %d, %v; want the default %d", size, err, DefaultMMapSize)
		}
		s.Close()
	}
	for _, mmap := range []int64{-1, MaxMMapSize + 1} {
		if _, err := OpenMapped(t.Context(), filepath.Join(t.TempDir(), "bad.db"), mmap); err == nil {
			t.Errorf("OpenMapped with a map of %d succeeded", mmap)
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

// Migration 0007 on a database that already holds memberships, some deleted
// and some hanging on deleted organization memberships: the rows it fills in
// agree with their organization memberships, and the answers are those of a
// database that had 0007 before anything was loaded.
func TestOrganizationMembershipBackfill(t *testing.T) {
	ctx := t.Context()
	before := migrationsBefore(t, "0007")
	writes := []string{
		`UPDATE organization_memberships SET deleted_at = created_at WHERE id = ?`,       // globex: alice's 702
		`UPDATE workspace_memberships SET deleted_at = created_at WHERE id = ?`,          // a membership deleted
		`DELETE FROM organization_membership_roles WHERE organization_membership_id = ?`, // acme: alice's 701 loses its roles
	}
	args := []int64{702, 801, 701}
	populated := func(t *testing.T) *Store {
		s := openTemp(t, filepath.Join(t.TempDir(), "db.db"))
		if err := s.Load(ctx, storetest.Fixture()); err != nil {
			t.Fatal(err)
		}
		for i, w := range writes {
			if _, err := s.DB().ExecContext(ctx, w, storetest.ID(args[i])); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	want := answers(t, populated(t))
	migrations = before
	old := populated(t)
	migrations = migrationFiles
	t.Cleanup(func() { migrations = migrationFiles })
	if err := old.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := old.DB().QueryRowContext(ctx, `SELECT count(*) FROM workspace_memberships wm
		JOIN organization_memberships om ON om.id = wm.organization_membership_id
		WHERE wm.deleted_at IS NULL AND (wm.organization_membership_live IS NOT (om.deleted_at IS NULL)
		   OR wm.organization_permissions IS NOT om.permissions)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("after 0007 on a populated database: %d live workspace memberships disagree with their organization membership", n)
	}
	if got := answers(t, old); !bytes.Equal(got, want) {
		t.Errorf("answers after 0007 on a populated database:\n got %s\nwant %s", got, want)
	}
}

// Another program deleting an organization membership outright, with foreign
// keys off (the sqlite3 shell's default), used to hide the workspace
// memberships hanging on it (the statement joined it); they must stay hidden
// now that its liveness is kept on their rows.
func TestOrganizationMembershipHardDeleted(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hard.db")
	s := openTemp(t, path)
	if err := s.Load(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	om := storetest.ID(702)
	if listedOn(t, s, om) == 0 {
		t.Fatal("the fixture has no membership of alice's on organization membership 702")
	}
	deleteOutright(t, path, om)
	if n := listedOn(t, s, om); n != 0 {
		t.Errorf("%d memberships on a deleted organization membership still listed", n)
	}
}

// INSERT OR REPLACE rewrites a row as a delete and an insert, firing no
// update trigger: a program soft-deleting an organization membership that way
// (foreign keys on) must hide the workspace memberships hanging on it, as
// the statement's join on it did before 0007.
func TestOrganizationMembershipReplaced(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t, filepath.Join(t.TempDir(), "replace.db"))
	if err := s.Load(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	om := storetest.ID(702)
	if _, err := s.DB().ExecContext(ctx, `INSERT OR REPLACE INTO organization_memberships
		(id, organization_id, user_id, created_at, updated_at, deleted_at, permissions)
		SELECT id, organization_id, user_id, created_at, updated_at, updated_at, permissions
		  FROM organization_memberships WHERE id = ?`, om); err != nil {
		t.Fatal(err)
	}
	if n := listedOn(t, s, om); n != 0 {
		t.Errorf("%d memberships listed on a deleted organization membership", n)
	}
}

// answers is every fixture user's answer, as JSON.
func answers(t *testing.T, s *Store) []byte {
	t.Helper()
	var all []domain.Membership
	for _, q := range []struct{ deployment, user int64 }{
		{1, 101}, {1, 102}, {1, 103}, {1, 104}, {1, 106}, {2, 105},
	} {
		ms, err := s.Memberships(t.Context(), domain.MembershipQuery{
			DeploymentID: storetest.ID(q.deployment), UserID: storetest.ID(q.user)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ms...)
	}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// migrationsBefore is the embedded migrations older than version.
func migrationsBefore(t *testing.T, version string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	if err := migrate.Each(migrationFiles, func(v string, body []byte) error {
		if v < version {
			fsys["migrations/"+v+".sql"] = &fstest.MapFile{Data: body}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return fsys
}

// A database where a program with foreign keys off deleted an organization
// membership outright, leaving workspace memberships that point at nothing:
// the statement's join hid them before 0007, and migrating must neither fail
// nor show them.
func TestOrganizationMembershipBackfillOrphans(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "orphans.db")
	migrations = migrationsBefore(t, "0007")
	t.Cleanup(func() { migrations = migrationFiles })
	s := openTemp(t, path)
	if err := s.Load(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	om := storetest.ID(702)
	deleteOutright(t, path, om)
	migrations = migrationFiles
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrating a database with orphaned workspace memberships: %v", err)
	}
	if n := listedOn(t, s, om); n != 0 {
		t.Errorf("%d memberships listed on an organization membership that is gone", n)
	}
}

// deleteOutright deletes organization membership om and its role links as a
// program with foreign keys off does.
func deleteOutright(t *testing.T, path string, om int64) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1) // the pragma is the connection's
	for _, stmt := range []string{
		`PRAGMA foreign_keys = OFF`,
		`DELETE FROM organization_membership_roles WHERE organization_membership_id = ?`,
		`DELETE FROM organization_memberships WHERE id = ?`,
	} {
		if _, err := raw.ExecContext(t.Context(), stmt, om); err != nil {
			t.Fatal(stmt, err)
		}
	}
}

// listedOn counts alice's memberships listed on organization membership om.
func listedOn(t *testing.T, s *Store, om int64) (n int) {
	t.Helper()
	ms, err := s.Memberships(t.Context(), domain.MembershipQuery{DeploymentID: storetest.ID(1), UserID: storetest.ID(101)})
	if err != nil {
		t.Fatal(err)
	}
	on := map[int64]bool{} // the fixture's workspace memberships on om
	for _, r := range storetest.Fixture().WorkspaceMemberships {
		on[r.ID] = r.OrganizationMembershipID == om
	}
	for _, m := range ms {
		if on[m.ID] {
			n++
		}
	}
	return n
}

// Without the memory map, another program truncating the file in place
// (`cp backup.db memberships.db` begins so) gives a connection that had the
// pages cached its old answer and a new one an error; with the map it is a
// SIGBUS that ends the process (docs/operations.md). The test first checks the file is
// not mapped, so a map it did not ask for fails it instead of crashing the
// test binary.
func TestTruncatedWithoutMap(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "truncated.db")
	s, err := OpenMapped(ctx, path, 0)
	s = storetest.Migrated(t, s, err)
	if err := s.Load(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	db := s.DB()
	// Everything into the database file, none left in the WAL.
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	count := func() (n int, err error) {
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM workspace_memberships WHERE length(public_metadata) >= 0`).Scan(&n)
		return n, err
	}
	want, err := count()
	if err != nil || want == 0 {
		t.Fatalf("before: %d memberships, %v", want, err)
	}
	if storetest.Mapped(t, path) {
		t.Fatal("the database file is memory-mapped with mmap_size 0")
	}
	if err := os.Truncate(path, 2*4096); err != nil {
		t.Fatal(err)
	}
	n, err := count()
	if err == nil && n != want {
		t.Errorf("cached connection: %d memberships, want the old %d or an error", n, want)
	}
	t.Logf("cached connection: %d memberships, %v", n, err)
	db.SetMaxIdleConns(0) // the next query opens a new connection, with no cached pages
	if n, err = count(); err == nil {
		t.Errorf("new connection: %d memberships and no error from a truncated file", n)
	}
	t.Logf("new connection: %v", err)
}
