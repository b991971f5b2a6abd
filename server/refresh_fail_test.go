package server_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/keyring"
	"github.com/wachtbench/memberships/internal/store"
	"github.com/wachtbench/memberships/server"
)

// faultyStore is a real store with one failure added.
type faultyStore struct {
	domain.Store
	memberships func(ctx context.Context) error // fails the memberships query
	lostCommit  bool                            // Refresh commits, then reports an error
}

func (f faultyStore) Memberships(ctx context.Context, q domain.MembershipQuery) ([]domain.Membership, error) {
	if f.memberships != nil {
		if err := f.memberships(ctx); err != nil {
			return nil, err
		}
	}
	return f.Store.Memberships(ctx, q)
}

func (f faultyStore) Refresh(ctx context.Context, r domain.RefreshRequest) (domain.RefreshResult, error) {
	res, err := f.Store.Refresh(ctx, r)
	if err == nil && f.lostCommit {
		return domain.RefreshResult{}, errors.New("connection lost after COMMIT")
	}
	return res, err
}

func newRing(t *testing.T) *keyring.Ring {
	t.Helper()
	kek := make([]byte, 32)
	rand.Read(kek)
	r, err := keyring.New(kek)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// An expired token sent with a request that then fails: whatever the answer
// was, the client that keeps what it was handed (the new token when the
// answer carries one, else its old one) is still signed in after the grace
// window — on production (cookie) and staging (X-Development-Session)
// deployments alike. A rotation happens only once the request has passed
// every check, and then rides on the answer whatever it is.
func TestExpiredTokenWithFailingRequest(t *testing.T) {
	eachStore(t, testExpiredTokenWithFailingRequest)
}

func testExpiredTokenWithFailingRequest(t *testing.T, db string) {
	clk := newClock()
	cfg := server.Config{Now: clk.now}
	e := newEnv(t, db, cfg)
	// Keys sealed at rest, so a wrong key-encryption key is a real key failure.
	ring := newRing(t)
	if _, err := store.SealStoredKeys(context.Background(), e.store, ring); err != nil {
		t.Fatal(err)
	}
	raw := e.store
	e.store = store.WithSealedKeys(raw, ring)
	good := handler(t, cfg, e.store)

	boom := errors.New("database went away")
	for _, row := range []struct {
		name         string
		query, body  string
		cfg          server.Config
		store        domain.Store
		status, code int
		handed       bool // the answer carries a new token
	}{
		{name: "bad org_id", query: "org_id=abc", status: 400, code: 1000},
		{name: "repeated org_id", query: "org_id=1&org_id=2", status: 400, code: 1000},
		{name: "body on GET", body: "{}", status: 400, code: 1000},
		{name: "signing key does not unseal", store: store.WithSealedKeys(raw, newRing(t)), status: 500, code: 1900},
		{name: "commit acknowledgement lost", store: faultyStore{Store: e.store, lostCommit: true}, status: 500, code: 1900},
		{name: "memberships query fails", store: faultyStore{Store: e.store, memberships: func(context.Context) error { return boom }},
			status: 500, code: 1900, handed: true},
		{name: "handler timeout", cfg: server.Config{Now: clk.now, HandlerTimeout: 50 * time.Millisecond},
			store:  faultyStore{Store: e.store, memberships: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
			status: 500, code: 1900, handed: true},
		{name: "panic", store: faultyStore{Store: e.store, memberships: func(context.Context) error { panic("bug") }},
			status: 500, code: 1900, handed: true},
	} {
		for _, m := range []struct{ mode, host, user string }{
			{"production", "prod.test", "alice@example.com"},
			{"staging", "staging.test", "dev@example.com"},
		} {
			t.Run(m.mode+"/"+row.name, func(t *testing.T) {
				failing := good
				if row.store != nil || row.cfg.HandlerTimeout != 0 {
					c, s := cfg, e.store
					if row.cfg.HandlerTimeout != 0 {
						c = row.cfg
					}
					if row.store != nil {
						s = row.store
					}
					failing = handler(t, c, s)
				}
				old := e.expired(m.host, m.user, clk.now().Add(24*time.Hour))
				rec := e.with(failing).do(sessionCall(m.host, old, row.query, row.body))
				expectError(t, rec, row.status, row.code)
				kept := handedToken(t, rec.Header())
				if (kept != "") != row.handed {
					t.Fatalf("answer hands a token: %v, want %v (%v)", kept != "", row.handed, rec.Header())
				}
				if kept == "" {
					kept = old
				}

				clk.add(auth.RefreshGrace + time.Second)
				rec = e.with(good).do(sessionCall(m.host, kept, "", ""))
				if rec.Code != 200 {
					t.Fatalf("after the grace window, the token the client kept: %d %s", rec.Code, rec.Body)
				}
				if next := handedToken(t, rec.Header()); next != "" {
					kept = next
				}
				if rec := e.with(good).do(sessionCall(m.host, kept, "", "")); rec.Code != 200 {
					t.Fatalf("the next poll: %d %s", rec.Code, rec.Body)
				}
				// Once the successor has been used, the old token is reuse.
				clk.add(auth.RefreshGrace + time.Second)
				expectError(t, e.with(good).do(sessionCall(m.host, old, "", "")), 401, 1103)
			})
		}
	}
}

func handler(t *testing.T, cfg server.Config, s domain.Store) http.Handler {
	t.Helper()
	h, err := server.New(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// with is e serving through h.
func (e *env) with(h http.Handler) *env {
	c := *e
	c.h = h
	return &c
}

// sessionCall sends tok as the deployment's mode expects it: the cookie on
// prod.test, __dev_session__ on staging.test.
func sessionCall(host, tok, query, body string) call {
	c := call{host: host, body: body, path: "/me/workspace-memberships"}
	if host == "prod.test" {
		c.cookie = tok
	} else {
		query += "&" + devSession + "=" + url.QueryEscape(tok)
	}
	if query != "" {
		c.path += "?" + query
	}
	return c
}

const devSession = "__dev_session__"

// handedToken is the new token an answer carries, "" when none.
func handedToken(t *testing.T, h http.Header) string {
	t.Helper()
	if tok := h.Get("X-Development-Session"); tok != "" {
		return tok
	}
	return newCookie(t, h)
}

// BenchmarkRefresh is a request whose token has expired: the refresh
// transaction, signing, the cookies and the answer, on SQLite. Each
// iteration needs a session of its own, made outside the timer.
func BenchmarkRefresh(b *testing.B) {
	clk := newClock()
	e := newEnv(b, tempSQLite(b), server.Config{Now: clk.now})
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		old := e.expired("prod.test", "alice@example.com", clk.now().Add(time.Hour))
		req := httptest.NewRequest(http.MethodGet, "/me/workspace-memberships", nil)
		req.Host = "prod.test"
		req.Header.Set("Cookie", "__session="+old)
		rec := httptest.NewRecorder()
		b.StartTimer()
		e.h.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Header().Get("Set-Cookie") == "" {
			b.Fatalf("%d %v", rec.Code, rec.Header())
		}
	}
}

// A sign-out the session cache does not show yet: the request authenticates
// from the cached state, but the refresh transaction re-reads the sign-in
// on the primary and rotates nothing.
func TestRefreshRechecksSessionBehindCache(t *testing.T) {
	eachStore(t, testRefreshRechecksSessionBehindCache)
}

func testRefreshRechecksSessionBehindCache(t *testing.T, db string) {
	clk := newClock()
	e := newEnv(t, db, server.Config{Now: clk.now, CacheTTL: time.Minute})
	old := e.expired("prod.test", "alice@example.com", clk.now().Add(24*time.Hour))
	var c auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(old, &c); err != nil {
		t.Fatal(err)
	}
	sid, _ := strconv.ParseInt(c.Session, 10, 64)
	rid, _ := strconv.ParseInt(c.RotatingToken, 10, 64)
	good := e.sign("", jwt.SigningMethodES256, e.key("prod.test"), claims("prod.test", sid, rid, time.Now()))
	if rec := e.do(call{host: "prod.test", cookie: good}); rec.Code != 200 { // caches the live session
		t.Fatalf("before the sign-out: %d %s", rec.Code, rec.Body)
	}
	e.sql(`UPDATE sign_ins SET signed_out_at = ? WHERE session_id = ?`, clk.now(), sid)
	rec := e.do(call{host: "prod.test", cookie: old})
	expectError(t, rec, 401, 1102)
	if h := rec.Header().Get("Set-Cookie"); h != "" {
		t.Fatalf("a signed-out session got a new token: %s", h)
	}
}
