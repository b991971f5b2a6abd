package storetest

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/fragment"
)

// Unchecked runs plain SQL as a program with foreign keys off does (the
// sqlite3 shell's default): on SQLite on a connection of its own with
// foreign_keys off; on PostgreSQL, whose foreign keys cannot be switched off
// so, as Exec does. Placeholders are ?.
type Unchecked interface {
	ExecUnchecked(ctx context.Context, query string, args ...any) error
	// Raw is a pool of its own on the database and whether it is PostgreSQL.
	Raw() (*sql.DB, bool)
}

func (m mutable) Raw() (*sql.DB, bool) { return m.db, isPostgres(m.url) }

func (m mutable) ExecUnchecked(ctx context.Context, query string, args ...any) error {
	if isPostgres(m.url) {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
		}
		_, err := m.db.ExecContext(ctx, query, args...)
		return err
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), `PRAGMA foreign_keys = ON`)
	_, err = conn.ExecContext(ctx, query, args...)
	return err
}

// testEveryWriter holds the regression tests of what the randomized writers
// test (internal/writers) found: writes another program may make that the
// answer missed. Each checks the answer of the instance whose fragment cache
// saw the state before, and of a cold one.
func testEveryWriter(t *testing.T, open func(t *testing.T) domain.Store) {
	// setup loads the fixture and reads alice's answer once, filling the
	// fragment cache.
	setup := func(t *testing.T) (domain.Store, Unchecked) {
		s := open(t)
		if err := s.Load(t.Context(), Fixture()); err != nil {
			t.Fatal(err)
		}
		u, ok := s.(Unchecked)
		if !ok {
			t.Fatal("the store's test must implement storetest.Unchecked")
		}
		membership(t, s, ID(801))
		return s, u
	}
	// both runs check on the warm answer, then on a cold one.
	both := func(t *testing.T, s domain.Store, check func(t *testing.T, m *domain.Membership)) {
		t.Helper()
		check(t, membership(t, s, ID(801)))
		s.(interface{ UseFragments(*fragment.Cache) }).UseFragments(fragment.NewCache(0))
		check(t, membership(t, s, ID(801)))
	}

	t.Run("DeletedWorkspaceRole", func(t *testing.T) {
		s, u := setup(t)
		if err := u.ExecUnchecked(t.Context(), `DELETE FROM workspace_roles WHERE id = ?`, ID(601)); err != nil {
			if _, pg := u.Raw(); pg {
				t.Skipf("PostgreSQL refuses to delete a role its links reference: %v", err)
			}
			t.Fatal(err)
		}
		both(t, s, func(t *testing.T, m *domain.Membership) {
			if m == nil {
				t.Fatal("membership 801 is gone; it should list its other roles")
			}
			if got := roleIDs(m); !slices.Equal(got, []int64{ID(602)}) {
				t.Errorf("roles %v, want only %d (601 was deleted)", got, ID(602))
			}
		})
	})

	t.Run("DeletedOrganizationAdminRole", func(t *testing.T) {
		s, u := setup(t)
		if err := u.ExecUnchecked(t.Context(), `DELETE FROM organization_roles WHERE id = ?`, ID(501)); err != nil {
			if _, pg := u.Raw(); pg {
				t.Skipf("PostgreSQL refuses to delete a role its links reference: %v", err)
			}
			t.Fatal(err)
		}
		both(t, s, func(t *testing.T, m *domain.Membership) {
			if m == nil {
				t.Fatal("membership 801 is gone")
			}
			if slices.Contains(m.OrganizationPermissions, "organization:admin") {
				t.Errorf("organization permissions %v keep the deleted role's organization:admin", m.OrganizationPermissions)
			}
		})
	})

	t.Run("TruncatedRoleLinks", func(t *testing.T) {
		s, u := setup(t)
		_, pg := u.Raw()
		stmts := []string{`DELETE FROM workspace_membership_roles`, `DELETE FROM organization_membership_roles`}
		if pg {
			stmts = []string{`TRUNCATE workspace_membership_roles, organization_membership_roles`}
		}
		for _, q := range stmts {
			if err := u.ExecUnchecked(t.Context(), q); err != nil {
				t.Fatal(err)
			}
		}
		both(t, s, func(t *testing.T, m *domain.Membership) {
			if m == nil {
				t.Fatal("membership 801 is gone")
			}
			if len(m.Roles) != 0 || len(m.OrganizationPermissions) != 0 {
				t.Errorf("roles %v and organization permissions %v after the links were emptied", roleIDs(m), m.OrganizationPermissions)
			}
		})
	})

	t.Run("DeletedUserSignedOut", func(t *testing.T) {
		s, u := setup(t)
		ctx := t.Context()
		ns := domain.NewSession{DeploymentID: deployment1, UserID: alice, SessionID: ID(9000), SignInID: ID(9100),
			RotatingTokenID: ID(9200), CreatedAt: at(10), SignInExpiresAt: at(34), TokenValidUntil: at(11)}
		if err := s.CreateSession(ctx, ns); err != nil {
			t.Fatal(err)
		}
		if _, pg := u.Raw(); pg {
			if err := u.ExecUnchecked(ctx, `DELETE FROM users WHERE id = ?`, alice); err == nil {
				t.Fatal("PostgreSQL deleted a user its sign-ins reference")
			}
			t.Skip("PostgreSQL refuses to delete a user its sign-ins reference")
		}
		if err := u.ExecUnchecked(ctx, `DELETE FROM users WHERE id = ?`, alice); err != nil {
			t.Fatal(err)
		}
		ss, err := s.Session(ctx, deployment1, ns.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		if ss.SignIn == nil || !ss.SignIn.UserDeleted {
			t.Errorf("session of a user deleted outright: sign-in %+v, want UserDeleted", ss.SignIn)
		}
	})

	t.Run("ConcurrentRoleLinkDeletes", func(t *testing.T) {
		s, u := setup(t)
		db, pg := u.Raw()
		if !pg {
			t.Skip("SQLite runs one writer at a time")
		}
		ctx := t.Context()
		// The first transaction deletes one link and holds its refresh's
		// lock; the second deletes the other and waits for it; then the
		// first commits.
		first, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Rollback()
		if _, err := first.ExecContext(ctx, `DELETE FROM workspace_membership_roles WHERE workspace_membership_id = $1 AND workspace_role_id = $2`, ID(801), ID(601)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var secondErr error
		wg.Go(func() {
			tx, err := db.BeginTx(ctx, nil)
			if err == nil {
				if _, err = tx.ExecContext(ctx, `DELETE FROM workspace_membership_roles WHERE workspace_membership_id = $1 AND workspace_role_id = $2`, ID(801), ID(602)); err == nil {
					err = tx.Commit()
				} else {
					tx.Rollback()
				}
			}
			secondErr = err
		})
		waitForLockWait(t, db)
		if err := first.Commit(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if secondErr != nil {
			t.Fatal(secondErr)
		}
		both(t, s, func(t *testing.T, m *domain.Membership) {
			if m == nil {
				t.Fatal("membership 801 is gone")
			}
			if got := roleIDs(m); len(got) != 0 {
				t.Errorf("roles %v after both links were deleted", got)
			}
		})
	})
}

// waitForLockWait waits until some other backend of the database waits for a
// lock.
func waitForLockWait(t *testing.T, db *sql.DB) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatal("the second transaction never waited for the first")
}

func membership(t *testing.T, s domain.Store, id int64) *domain.Membership {
	t.Helper()
	ms, err := s.Memberships(t.Context(), domain.MembershipQuery{DeploymentID: deployment1, UserID: alice})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		if ms[i].ID == id {
			return &ms[i]
		}
	}
	return nil
}

func roleIDs(m *domain.Membership) []int64 {
	out := []int64{}
	for _, r := range m.Roles {
		out = append(out, r.ID)
	}
	return out
}

// testMigrationHistory: Migrate refuses a database whose recorded migrations
// this program does not know, or that lacks one below an applied one, and
// names them; the database is left as it was.
func testMigrationHistory(t *testing.T, s domain.Store) {
	ctx := t.Context()
	u, ok := s.(Unchecked)
	if !ok {
		t.Fatal("the store's test must implement storetest.Unchecked")
	}
	db, pg := u.Raw()
	insert := `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`
	if pg {
		insert = `INSERT INTO schema_migrations (version) VALUES ($1)`
	}
	if _, err := db.ExecContext(ctx, insert, "9998_from_a_newer_version"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "9998_from_a_newer_version") {
		t.Errorf("Migrate with an unknown version recorded: %v, want an error naming it", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = '9998_from_a_newer_version'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = '0005_tenant_consistency'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "0005_tenant_consistency") {
		t.Errorf("Migrate with 0005 missing below applied ones: %v, want an error naming it", err)
	}
	if _, err := db.ExecContext(ctx, insert, "0005_tenant_consistency"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Errorf("Migrate after the history was put back: %v", err)
	}
}

// testDerivedReapplied: when the recorded checksum of the derived schema
// differs from the file's (the file changed), Migrate drops every trigger
// and applies the file again, so a trigger lost meanwhile comes back and
// the derived columns are recomputed; with the checksum current it does
// nothing.
func testDerivedReapplied(t *testing.T, s domain.Store) {
	ctx := t.Context()
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	u, ok := s.(Unchecked)
	if !ok {
		t.Fatal("the store's test must implement storetest.Unchecked")
	}
	db, pg := u.Raw()
	drop, exists := `DROP TRIGGER workspace_roles_deleted`,
		`SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'workspace_roles_deleted'`
	if pg {
		drop, exists = `DROP TRIGGER workspace_roles_deleted ON workspace_roles`,
			`SELECT count(*) FROM pg_trigger WHERE tgname = 'workspace_roles_deleted' AND tgrelid = 'workspace_roles'::regclass`
	}
	count := func() int {
		var n int
		if err := db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var checksum string
	if err := db.QueryRowContext(ctx, `SELECT checksum FROM schema_derived`).Scan(&checksum); err != nil {
		t.Fatal(err)
	}
	// A derived column gone wrong, and a trigger gone.
	for _, q := range []string{drop, `UPDATE workspaces SET member_count = 99`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if count() != 0 {
		t.Fatal("Migrate with the checksum current applied the derived schema again")
	}
	if _, err := db.ExecContext(ctx, `UPDATE schema_derived SET checksum = 'an older file'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if count() != 1 {
		t.Error("the trigger is still missing after the derived schema was applied again")
	}
	var now string
	if err := db.QueryRowContext(ctx, `SELECT checksum FROM schema_derived`).Scan(&now); err != nil || now != checksum {
		t.Errorf("checksum recorded %q, %v; want %q", now, err, checksum)
	}
	var wrong int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM workspaces WHERE member_count = 99`).Scan(&wrong); err != nil || wrong != 0 {
		t.Errorf("%d workspaces keep a wrong member count (%v): applying the file recomputes them", wrong, err)
	}
}
