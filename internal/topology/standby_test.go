//go:build topology

package topology

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wachtbench/memberships/internal/loadfile"
	"github.com/wachtbench/memberships/internal/store"
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

// The store's probe interval and the server's query timeout in these tests.
const (
	readCheck    = 500 * time.Millisecond
	queryTimeout = time.Second
)

// newOnStandby serves from a store reading from the standby, through via
// (when not nil) rewriting the standby's URL, with the default lag bound.
// It returns once reads go to the standby: until the watcher has measured
// the lag within the bound (up to one readCheck after the load), the store
// fails safe to the primary, and a test that expects the standby would race.
func newOnStandby(t *testing.T, via func(standbyURL string) string) *onStandby {
	t.Helper()
	e := newOnStandbyLag(t, via, 0)
	for deadline := time.Now().Add(5 * time.Second); !e.store.ReplicaUp(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("reads did not go to the standby within 5s: %+v", e.store.Replica())
		}
	}
	return e
}

// newOnStandbyLag is newOnStandby with maxLag the store's MaxReplicaLag,
// returning without waiting for reads to go to the standby.
func newOnStandbyLag(t *testing.T, via func(standbyURL string) string, maxLag time.Duration) *onStandby {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	standbyURL := pgtest.StandbyURL(t, url)
	readURL := standbyURL
	if via != nil {
		readURL = via(standbyURL)
	}
	st, err := postgres.Open(ctx, url, postgres.Options{ReadURL: readURL, ReadCheckInterval: readCheck, MaxReplicaLag: maxLag,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ds, err := loadfile.Parse("topology.yaml", []byte(dataset), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	e := &onStandby{store: st}
	for _, p := range []struct {
		pool **pgxpool.Pool
		url  string
	}{{&e.primary, url}, {&e.standby, standbyURL}} {
		if *p.pool, err = pgxpool.New(ctx, p.url); err != nil {
			t.Fatal(err)
		}
		t.Cleanup((*p.pool).Close)
	}
	pgtest.CaughtUp(t, e.primary, e.standby)
	e.client = e.serve(t, 5*time.Second)
	return e
}

// serve starts a server over e's store, caching for cacheTTL.
func (e *onStandby) serve(t *testing.T, cacheTTL time.Duration) client {
	t.Helper()
	h, err := server.New(server.Config{CacheTTL: cacheTTL}, store.WithQueryTimeout(e.store, queryTimeout))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL, nil)
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
	e := newOnStandby(t, nil)
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
	e := newOnStandby(t, nil)
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
	e := newOnStandby(t, nil)
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

// load runs 4 clients of e until the returned function is called, which
// reports when requests failed and how many there were.
func load(e *onStandby, tok string) (stop func() (failed []time.Time, total int64)) {
	var (
		done  atomic.Bool
		mu    sync.Mutex
		fails []time.Time
		n     atomic.Int64
		wg    sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for !done.Load() {
				if a := e.get(tok); a.status != 200 || len(a.data) != 3 {
					mu.Lock()
					fails = append(fails, time.Now())
					mu.Unlock()
				}
				n.Add(1)
			}
		})
	}
	return func() ([]time.Time, int64) {
		done.Store(true)
		wg.Wait()
		return fails, n.Load()
	}
}

// replicaUntil returns when the store's reads leave (up false) or return to
// (up true) the replica, seen within a millisecond; it fails t after within.
func replicaUntil(t *testing.T, st *postgres.Store, up bool, within time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	go func() {
		for deadline := time.Now().Add(within); st.ReplicaUp() != up; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("reads did not move (replica up: %v) within %v", up, within)
				break
			}
		}
		c <- time.Now()
	}()
	return c
}

// onStandbyAgain checks reads return to the replica after an outage, and
// that statements reach it again.
func onStandbyAgain(t *testing.T, e *onStandby, from time.Time) time.Duration {
	t.Helper()
	before := e.store.ReplicaStatements()
	back := (<-replicaUntil(t, e.store, true, 5*time.Second)).Sub(from)
	time.Sleep(200 * time.Millisecond)
	if e.store.ReplicaStatements() == before {
		t.Error("reads did not return to the replica")
	}
	return back
}

// failures counts the failures later than window after start.
func failures(failed []time.Time, start time.Time, window time.Duration) (late int) {
	for _, at := range failed {
		if at.Sub(start) > window {
			late++
		}
	}
	return late
}

// TestStandbyFailover stops the standby under load: reads go to the primary
// within a bounded window with no burst of 500s, and return to the standby
// once it is back.
func TestStandbyFailover(t *testing.T) {
	e := newOnStandby(t, nil)
	stop := load(e, sessionToken(t, e.store, false))
	time.Sleep(300 * time.Millisecond)
	moved := replicaUntil(t, e.store, false, 5*time.Second)
	down := time.Now()
	pgtest.Standby(t, "stop")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			pgtest.Standby(t, "start")
		}
	})
	stopped := time.Since(down)
	window := (<-moved).Sub(down)
	time.Sleep(1500 * time.Millisecond) // an outage longer than a probe interval
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
	back := onStandbyAgain(t, e, up.Add(started))
	failed, total := stop()
	late := failures(failed, down, window)
	t.Logf("standby stopped (pg_ctl stop -m fast took %v): reads on the primary %v after the stop began; %d of %d requests failed, %d after that; "+
		"standby started (pg_ctl start took %v): reads back on it %v later", stopped, window, len(failed), total, late, started, back)
	if len(failed) > 0 {
		t.Errorf("%d requests failed during the failover (%d after the window)", len(failed), late)
	}
	if window > 3*time.Second {
		t.Errorf("failover took %v, over 3s", window)
	}
}

// TestStandbyHangs freezes the connection to the standby, as a partition or
// a stuck server would: reads go to the primary within two probe intervals,
// only requests caught in that window fail (after their query timeout), and
// reads return once it answers again.
func TestStandbyHangs(t *testing.T) {
	f := newFreezer(t)
	e := newOnStandby(t, f.via)
	stop := load(e, sessionToken(t, e.store, false))
	time.Sleep(300 * time.Millisecond)
	moved := replicaUntil(t, e.store, false, 5*time.Second)
	frozen := time.Now()
	f.frozen.Store(true)
	window := (<-moved).Sub(frozen)
	time.Sleep(time.Second)
	thawed := time.Now()
	f.frozen.Store(false)
	back := onStandbyAgain(t, e, thawed)
	failed, total := stop()
	late := failures(failed, frozen, window+queryTimeout)
	t.Logf("standby hung: reads on the primary %v later (probe every %v); %d of %d requests failed, %d after that plus the %v query timeout; "+
		"it answers again: reads back on it %v later", window, readCheck, len(failed), total, late, queryTimeout, back)
	if late > 0 {
		t.Errorf("%d requests failed after the failover window", late)
	}
	if window > 2*readCheck+500*time.Millisecond {
		t.Errorf("failover from a hung standby took %v, over two probe intervals (%v)", window, readCheck)
	}
}

// freezer forwards TCP to the standby until frozen; frozen, it passes no
// byte either way and holds new connections, as a hung server does.
type freezer struct {
	ln     net.Listener
	frozen atomic.Bool
	target string
}

func newFreezer(t *testing.T) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.forward(c)
		}
	}()
	return f
}

// via points a standby URL at the freezer.
func (f *freezer) via(standbyURL string) string {
	u, _ := neturl.Parse(standbyURL)
	f.target, u.Host = u.Host, f.ln.Addr().String()
	return u.String()
}

func (f *freezer) forward(c net.Conn) {
	defer c.Close()
	f.wait()
	s, err := net.Dial("tcp", f.target)
	if err != nil {
		return
	}
	defer s.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			f.wait()
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}
	go pipe(s, c)
	go pipe(c, s)
	<-done
}

func (f *freezer) wait() {
	for f.frozen.Load() {
		time.Sleep(5 * time.Millisecond)
	}
}

// probe GETs an operations endpoint (outside the contract).
func (c client) probe(path string) int {
	status, _ := c.probeBody(path)
	return status
}

// probeBody GETs an operations endpoint and returns its body too.
func (c client) probeBody(path string) (int, string) {
	resp, err := http.Get(c.url + path)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
