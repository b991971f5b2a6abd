package topology

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wachtbench/memberships/internal/loader"
	"github.com/wachtbench/memberships/internal/store/postgres"
	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/server"
)

// onStandby is a server whose store reads from the hot standby.
type onStandby struct {
	store            *postgres.Store
	primary, standby *pgxpool.Pool // direct connections, for what the domain cannot do
	client
}

func newOnStandby(t *testing.T) *onStandby {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	standbyURL := pgtest.StandbyURL(t, url)
	st, err := postgres.Open(ctx, url, postgres.Options{ReadURL: standbyURL, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ds, err := loader.Parse("topology.yaml", []byte(dataset), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	e := &onStandby{store: st, primary: st.Primary()}
	if e.standby, err = pgxpool.New(ctx, standbyURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.standby.Close)
	pgtest.CaughtUp(t, e.primary, e.standby)
	h, err := server.New(server.Config{CacheTTL: 5 * time.Second}, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.client = newClient(t, srv.URL, nil)
	return e
}

// exec runs SQL on the primary.
func (e *onStandby) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := e.primary.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// testWriter sends the store's log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// TestStandbyServesReads pauses the standby's replay, so it lags as much as
// the test likes: a session minted on the primary works at once (sessions
// are read on the primary), while a membership removed on the primary still
// shows (memberships are read on the standby) until replay resumes.
func TestStandbyServesReads(t *testing.T) {
	e := newOnStandby(t)
	ctx := context.Background()
	var recovering bool
	if err := e.standby.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&recovering); err != nil || !recovering {
		t.Fatalf("the standby is not in recovery: %v, %v", recovering, err)
	}
	before := e.store.ReplicaStatements()
	if a := e.get(sessionToken(t, e.store, false)); a.status != 200 || len(a.data) != 3 {
		t.Fatalf("GET = %d with %d memberships, want 200 with 3", a.status, len(a.data))
	}
	if e.store.ReplicaStatements() == before {
		t.Error("the request sent no statement to the standby")
	}

	if _, err := e.standby.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.standby.Exec(context.Background(), `SELECT pg_wal_replay_resume()`) })
	tok := sessionToken(t, e.store, false)
	e.exec(t, `UPDATE workspace_memberships SET deleted_at = now() WHERE id = $1`, membershipID)
	if a := e.get(tok); a.status != 200 || len(a.data) != 3 {
		t.Errorf("replay paused: GET = %d with %d memberships; want 200 (session on the primary) with the standby's 3", a.status, len(a.data))
	}
	if _, err := e.standby.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	pgtest.CaughtUp(t, e.primary, e.standby)
	if a := e.get(tok); a.status != 200 || len(a.data) != 2 {
		t.Errorf("replay resumed: GET = %d with %d memberships, want 200 with 2", a.status, len(a.data))
	}
}

// TestStandbyLag measures how long a membership written on the primary takes
// to show through the API reading the standby.
func TestStandbyLag(t *testing.T) {
	e := newOnStandby(t)
	tok := sessionToken(t, e.store, false)
	const rounds = 50
	var lags []time.Duration
	for i := range rounds {
		want, set := 3, "NULL"
		if i%2 == 0 {
			want, set = 2, "now()"
		}
		e.exec(t, `UPDATE workspace_memberships SET deleted_at = `+set+` WHERE id = $1`, membershipID)
		start := time.Now()
		for {
			a := e.get(tok)
			if a.status != 200 {
				t.Fatalf("GET = %d", a.status)
			}
			if len(a.data) == want {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("a membership change did not show within 10s")
			}
		}
		lags = append(lags, time.Since(start))
	}
	slices.Sort(lags)
	t.Logf("write on the primary → visible through the standby, %d writes: median %v, p95 %v, max %v (includes one request each poll)",
		rounds, lags[rounds/2], lags[rounds*95/100], lags[rounds-1])
	if lags[rounds-1] > 2*time.Second {
		t.Errorf("replica lag reached %v, over the 2s bound", lags[rounds-1])
	}
}

// TestStandbyRefusesWrites: the standby refuses a write, and the request
// path, a refresh (which writes) included, succeeds while reading from it,
// so it never tries one there.
func TestStandbyRefusesWrites(t *testing.T) {
	e := newOnStandby(t)
	_, err := e.standby.Exec(context.Background(), `UPDATE workspace_memberships SET deleted_at = now() WHERE id = $1`, membershipID)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Fatalf("a write on the standby: %v, want read_only_sql_transaction (25006)", err)
	}
	expired := sessionToken(t, e.store, true)
	before := e.store.ReplicaStatements()
	a := e.get(expired)
	if a.status != 200 || a.session == "" {
		t.Fatalf("refresh of an expired token: %d (code %d), new token %v; want 200 with one", a.status, a.code, a.session != "")
	}
	if e.store.ReplicaStatements() == before {
		t.Error("the refreshed request read nothing from the standby")
	}
	if a := e.get(a.session); a.status != 200 {
		t.Errorf("the refreshed token: %d", a.status)
	}
}

// TestStandbyFailover stops the standby under load: reads go to the primary
// within a bounded window with no burst of 500s, and return to the standby
// once it is back.
func TestStandbyFailover(t *testing.T) {
	e := newOnStandby(t)
	tok := sessionToken(t, e.store, false)
	var (
		stop   atomic.Bool
		mu     sync.Mutex
		failed []time.Time
		total  atomic.Int64
		wg     sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				if a := e.get(tok); a.status != 200 || len(a.data) != 3 {
					mu.Lock()
					failed = append(failed, time.Now())
					mu.Unlock()
				}
				total.Add(1)
			}
		})
	}
	waitFor := func(what string, within time.Duration, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > within {
				t.Fatalf("%s: not within %v", what, within)
			}
			time.Sleep(time.Millisecond)
		}
		return time.Since(start)
	}
	time.Sleep(300 * time.Millisecond)
	// The moment reads leave the standby, seen within a millisecond.
	movedc := make(chan time.Time, 1)
	go func() {
		for e.store.ReplicaUp() {
			time.Sleep(time.Millisecond)
		}
		movedc <- time.Now()
	}()
	down := time.Now()
	pgtest.Standby(t, "stop")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			pgtest.Standby(t, "start")
		}
	})
	stopped := time.Since(down)
	var window time.Duration
	select {
	case moved := <-movedc:
		window = moved.Sub(down)
	case <-time.After(5 * time.Second):
		t.Fatal("reads did not fail over to the primary within 5s")
	}
	onPrimary := total.Load()
	time.Sleep(1500 * time.Millisecond) // an outage longer than a probe interval
	if total.Load() == onPrimary {
		t.Error("no request was answered while the standby was down")
	}
	if before := e.store.ReplicaStatements(); !e.store.ReplicaUp() {
		time.Sleep(50 * time.Millisecond)
		if e.store.ReplicaStatements() != before {
			t.Error("statements reach the replica while it is down")
		}
	}
	if ready := e.probe("/readyz"); ready != 200 {
		t.Errorf("/readyz with the standby down: %d, want 200 (the primary serves reads)", ready)
	}

	up := time.Now()
	pgtest.Standby(t, "start")
	restarted = true
	started := time.Since(up)
	before := e.store.ReplicaStatements()
	back := waitFor("reads return to the standby", 5*time.Second, func() bool {
		return e.store.ReplicaUp() && e.store.ReplicaStatements() > before
	})
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	var late int
	for _, at := range failed {
		if at.Sub(down) > window {
			late++
		}
	}
	t.Logf("standby stopped (pg_ctl stop -m fast took %v): reads on the primary %v after the stop began; %d of %d requests failed, %d after that; "+
		"standby started (pg_ctl start took %v): reads back on it %v later", stopped, window, len(failed), total.Load(), late, started, back)
	if len(failed) > 0 {
		t.Errorf("%d requests failed during the failover (%d after the window)", len(failed), late)
	}
	if window > 3*time.Second {
		t.Errorf("failover took %v, over 3s", window)
	}
}

// probe GETs an operations endpoint (outside the contract).
func (c client) probe(path string) int {
	resp, err := http.Get(c.url + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
