package postgres

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// openFresh opens and migrates a store on a schema of its own.
func openFresh(t *testing.T, opts Options) *Store {
	t.Helper()
	return openAt(t, pgtest.URL(t), opts)
}

// openAt opens and migrates a store on url.
func openAt(t *testing.T, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, opts)
	return storetest.Migrated(t, s, err)
}

func TestConformance(t *testing.T) {
	pgtest.Skip(t)
	storetest.Run(t, func(t *testing.T) domain.Store {
		url := pgtest.URL(t)
		return storetest.Mutable(t, openAt(t, url, Options{}), url)
	})
}

// TestStatementsPerRequest counts, at the driver, the statements of the
// request path and checks Memberships costs the same however much it returns.
func TestStatementsPerRequest(t *testing.T) {
	storetest.StatementsPerRequest(t, openFresh(t, Options{}))
}

// TestReadReplica sends the memberships read to the replica, and
// deployments (their keys) and sessions to the primary. Two schemas stand in
// for the two servers: the "replica" holds the data, the "primary" only what
// is written to it; the "replica" is no standby, so its lag is not bounded
// here. A real streaming standby, its lag and its outages are tested in
// internal/topology.
func TestReadReplica(t *testing.T) {
	ctx := t.Context()
	replica := openFresh(t, Options{})
	if err := replica.Load(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	primaryURL := pgtest.URL(t)
	s, err := Open(ctx, primaryURL, Options{ReadURL: pgtest.URLOf(replica.Primary()), MaxConns: 2, MaxReplicaLag: NoReplicaLagBound})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ds, q := storetest.Scaled(1, 3)
	if err := replica.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Memberships(ctx, q); err != nil || len(got) != 3 {
		t.Fatalf("Memberships through the store = %d, %v; want the replica's 3", len(got), err)
	}
	if _, err := s.DeploymentByHost(ctx, "scaled-1.example.test"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("DeploymentByHost: %v, want the primary's answer, not found (keys are read where they sign)", err)
	}
	if r := s.Replica(); !r.Configured || !r.InUse || !r.Answers || r.LagKnown || r.MaxLag != 0 {
		t.Errorf("Replica() = %+v, want in use, answering, lag unknown, no bound", r)
	}
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Errorf("Empty() = %v, %v: want the primary's answer, true", empty, err)
	}
	// Writes go to the primary, which has no such deployment yet.
	if err := s.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ns := domain.NewSession{DeploymentID: q.DeploymentID, UserID: q.UserID, SessionID: 1, SignInID: 2, RotatingTokenID: 3,
		CreatedAt: now, SignInExpiresAt: now.Add(time.Hour), TokenValidUntil: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, q.DeploymentID, 1); err != nil {
		t.Errorf("Session just created: %v; sessions must be read on the primary", err)
	}
	if _, err := replica.Session(ctx, q.DeploymentID, 1); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("the session reached the replica schema: %v", err)
	}
}

// TestReplicaLagUnknownUsesPrimary: a replica whose lag cannot be measured
// (here no standby: it has no replay position) serves no read while the lag
// is bounded, and its statements are not counted as the request path's.
func TestReplicaLagUnknownUsesPrimary(t *testing.T) {
	ctx := t.Context()
	replica := openFresh(t, Options{})
	ds, q := storetest.Scaled(1, 3)
	if err := replica.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	s := openAt(t, pgtest.URL(t), Options{ReadURL: pgtest.URLOf(replica.Primary()), ReadCheckInterval: 200 * time.Millisecond, MaxConns: 2})
	if got, err := s.Memberships(ctx, q); err != nil || len(got) != 0 {
		t.Fatalf("Memberships = %d, %v; want the primary's none", len(got), err)
	}
	if r := s.Replica(); !r.Configured || r.InUse || !r.Answers || r.LagKnown || r.MaxLag != DefaultMaxReplicaLag {
		t.Errorf("Replica() = %+v, want answering but not in use, lag unknown, the default bound", r)
	}
	time.Sleep(time.Second) // a few probes
	if n := s.ReplicaStatements(); n != 0 {
		t.Errorf("%d statements counted on the replica; probes are not the request path's", n)
	}
}

func TestMigrateFailureChangesNothing(t *testing.T) {
	s := openFresh(t, Options{})
	// The real migrations (already applied), then a broken one.
	fsys, applied := storetest.WithBrokenMigration(t, migrationFiles, "CREATE TABLE half_done (id bigint);\nTHIS IS NOT SQL;")
	migrations = fsys
	t.Cleanup(func() { migrations = migrationFiles })
	if err := s.Migrate(t.Context()); err == nil || !strings.Contains(err.Error(), "9999_broken") {
		t.Fatalf("Migrate with a broken migration: %v", err)
	}
	var versions string
	var half bool
	if err := s.Primary().QueryRow(t.Context(), `SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if err := s.Primary().QueryRow(t.Context(), `SELECT to_regclass('half_done') IS NOT NULL`).Scan(&half); err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(applied, ","); versions != want || half {
		t.Errorf("after a failed migration: versions %q, half_done exists %v; want %q and false", versions, half, want)
	}
}

// TestConcurrentMigrate starts several instances on one new database at once.
// Instances sharing one database mint distinct ids.
func TestIDsAcrossStores(t *testing.T) {
	url := pgtest.URL(t)
	var stores []domain.Store
	for range 3 {
		s, err := Open(t.Context(), url, Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	storetest.IDsAcrossStores(t, stores)
}

func TestConcurrentMigrate(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), url, Options{MaxConns: 1})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			if err := s.Migrate(t.Context()); err != nil {
				t.Errorf("concurrent Migrate: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestRedact(t *testing.T) {
	got := Redact("postgres://app:s3cret@db.example:5432/memberships?sslmode=require")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "db.example:5432/memberships") {
		t.Errorf("Redact = %q", got)
	}
	if IsURL("memberships.db") || IsURL("sqlite://x.db") || !IsURL("postgresql://h/db") || !IsURL("POSTGRES://h/db") {
		t.Error("IsURL misclassifies")
	}
}

// explainData is a deployment with 20,000 users, 200 organizations of 10
// workspaces each, and 100,000 live workspace memberships (5 per user, 50 per
// workspace) with a role each, written by the server itself for speed.
const explainData = `
INSERT INTO deployments VALUES (1, 'big.example.test', 'production', true, true, '{}', now(), now(), NULL);
INSERT INTO users SELECT u, 1, 'user' || u || '@example.test', '', '', u % 2 = 0, now(), now(), NULL
  FROM generate_series(1, 20000) u;
INSERT INTO segments SELECT s, 1, 'segment ' || s, 'workspace', now(), now(), NULL FROM generate_series(1, 5) s;
INSERT INTO organizations SELECT o, 1, 'org ' || o, '', '', '{"plan":"pro"}', '{}', false, false, '{}', NULL, now(), now(), NULL
  FROM generate_series(1, 200) o;
INSERT INTO workspaces SELECT w, (w - 1) / 10 + 1, 1, 'workspace ' || w, '', '', '{}', '{}', true, true, '{10.0.0.0/8}',
  now() - w * interval '1 minute', now(), NULL FROM generate_series(1, 2000) w;
INSERT INTO workspace_segments SELECT w, w % 5 + 1 FROM generate_series(1, 2000) w;
INSERT INTO organization_roles SELECT o, 1, o, 'admin', '{organization:admin}', now(), now(), NULL FROM generate_series(1, 200) o;
INSERT INTO workspace_roles SELECT w, 1, w, 'member', '{workspace:read}', now(), now(), NULL FROM generate_series(1, 2000) w;
INSERT INTO organization_memberships SELECT u, u % 200 + 1, u, now(), now(), NULL FROM generate_series(1, 20000) u;
INSERT INTO organization_membership_roles SELECT u, u % 200 + 1 FROM generate_series(1, 20000) u WHERE u % 10 = 0;
INSERT INTO workspace_memberships
  SELECT u * 10 + k, (u % 200) * 10 + (u / 200 + k) % 10 + 1, u % 200 + 1, u, u, '{}',
         now() - (u * 5 + k) * interval '1 second', now(), CASE WHEN k = 4 AND u % 7 = 0 THEN now() END
    FROM generate_series(1, 20000) u, generate_series(0, 4) k;
INSERT INTO workspace_membership_roles SELECT id, workspace_id FROM workspace_memberships;
`

// TestExplainMemberships shows the plan of the memberships query on 100,000
// memberships and checks it reaches them through the user's index, never a
// sequential scan of a large table.
func TestExplainMemberships(t *testing.T) {
	s := openFresh(t, Options{StatementTimeout: time.Minute})
	ctx := t.Context()
	if _, err := s.Primary().Exec(ctx, explainData); err != nil {
		t.Fatal(err)
	}
	// VACUUM sets the visibility map, as autovacuum would, so member counts
	// can be index-only scans; it cannot run inside the batch above.
	if _, err := s.Primary().Exec(ctx, `VACUUM ANALYZE users, organizations, workspaces, segments, workspace_segments,
		organization_roles, workspace_roles, organization_memberships, organization_membership_roles,
		workspace_memberships, workspace_membership_roles`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.Primary().QueryRow(ctx, `SELECT count(*) FROM workspace_memberships`).Scan(&n); err != nil || n != 100_000 {
		t.Fatalf("%d memberships, %v", n, err)
	}
	for _, org := range []*int64{nil, ptr(int64(43))} {
		rows, err := s.Primary().Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+fragmentSQL.Memberships, int64(4243), int64(1), org)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		t.Logf("EXPLAIN ANALYZE memberships of one user (org filter %v), 100,000 memberships:\n%s", org != nil, text)
		if !strings.Contains(text, "workspace_memberships_user") {
			t.Error("the plan does not use workspace_memberships_user")
		}
		for _, table := range []string{"workspace_memberships", "organization_memberships", "workspace_membership_roles", "users"} {
			if strings.Contains(text, "Seq Scan on "+table+" ") {
				t.Errorf("sequential scan on %s", table)
			}
		}
	}
	// The query returns the user's 5 live memberships.
	got, err := s.Memberships(ctx, domain.MembershipQuery{DeploymentID: 1, UserID: 4243})
	if err != nil || len(got) != 5 || got[0].Workspace.MemberCount == 0 || len(got[0].Roles) != 1 {
		t.Fatalf("Memberships = %d, %v", len(got), err)
	}
}

func ptr[T any](v T) *T { return &v }
