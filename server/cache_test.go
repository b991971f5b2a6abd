package server_test

import (
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/server"
)

// With the session cache, a revocation reaches every instance within the TTL:
// at once on the instance that revoked, at most CacheTTL later on the others.
func TestCachedSessionRevocationIsBounded(t *testing.T) {
	eachStore(t, testCachedSessionRevocationIsBounded)
}

func testCachedSessionRevocationIsBounded(t *testing.T, db string) {
	const ttl = 5 * time.Second
	clk := newClock()
	cfg := server.Config{Now: clk.now, CacheTTL: ttl}
	a := newEnv(t, db, cfg)
	hb, err := server.New(cfg, a.store) // a second instance on the same database
	if err != nil {
		t.Fatal(err)
	}
	b := *a
	b.h = hb

	// Reuse of a rotated token revokes the session.
	old := a.expired("prod.test", "alice@example.com", clk.now().Add(24*time.Hour))
	rec := a.do(call{host: "prod.test", cookie: old})
	fresh := newCookie(t, rec.Header())
	if rec.Code != 200 || fresh == "" {
		t.Fatalf("refresh: %d %v", rec.Code, rec.Header())
	}
	if rec := b.do(call{host: "prod.test", cookie: fresh}); rec.Code != 200 {
		t.Fatalf("other instance, fresh token: %d", rec.Code)
	}
	clk.add(auth.RefreshGrace + time.Second)
	expectError(t, a.do(call{host: "prod.test", cookie: old}), 401, 1103)
	expectError(t, a.do(call{host: "prod.test", cookie: fresh}), 401, 1103) // at once where it was revoked
	clk.add(ttl)
	expectError(t, b.do(call{host: "prod.test", cookie: fresh}), 401, 1103) // after the bound everywhere

	// A sign-out written behind the servers' backs: 401 once the TTL has passed.
	tok := a.session("prod.test", "bob@example.com", nil)
	for _, e := range []env{*a, b} {
		if rec := e.do(call{host: "prod.test", cookie: tok}); rec.Code != 200 {
			t.Fatalf("bob before sign-out: %d %s", rec.Code, rec.Body)
		}
	}
	a.sql(`UPDATE sign_ins SET signed_out_at = ? WHERE user_id = (SELECT id FROM users WHERE email = 'bob@example.com')`, clk.now())
	clk.add(ttl)
	for _, e := range []env{*a, b} {
		expectError(t, e.do(call{host: "prod.test", cookie: tok}), 401, 1103)
	}
}
