package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wachtbench/memberships/client"
	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/server"
)

// From one address, forged tokens and unknown hosts spend a small budget and
// then get 429 with Retry-After, before the signature is even checked; a
// genuine session from another address is served all along.
func TestFailureBudget(t *testing.T) { eachStore(t, testFailureBudget) }

func testFailureBudget(t *testing.T, db string) {
	now := time.Now()
	e := newEnv(t, db, server.Config{FailuresPerMinute: 30, CacheTTL: time.Hour, Now: func() time.Time { return now }})
	genuine := e.session("prod.test", "alice@example.com", nil)
	forged := genuine[:len(genuine)-4] + "AAAA"
	const attacker = "198.51.100.66:4000"

	limitedAt := 0
	for i := 1; i <= 2000 && limitedAt == 0; i++ {
		c := call{host: "prod.test", cookie: forged, remote: attacker}
		if i%5 == 0 {
			c.host = "nobody.test" // unknown hosts spend the same budget
		}
		rec := e.do(c)
		switch rec.Code {
		case http.StatusUnauthorized, http.StatusNotFound:
		case http.StatusTooManyRequests:
			limitedAt = i
			expectError(t, rec, 429, 1400)
			if ra, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
				t.Errorf("Retry-After %q, want 1 or 2 s (one failure every 2 s)", rec.Header().Get("Retry-After"))
			}
		default:
			t.Fatalf("try %d: status %d: %s", i, rec.Code, rec.Body)
		}
		if rec := e.do(call{host: "prod.test", cookie: genuine, remote: "203.0.113.5:1"}); rec.Code != 200 {
			t.Fatalf("genuine session from another address: %d %s", rec.Code, rec.Body)
		}
	}
	if limitedAt != 31 {
		t.Fatalf("first 429 at try %d, want 31", limitedAt)
	}
	// Over budget, the address is refused before any lookup or signature
	// check, readable by a listed page (CORS from the cached deployment) ...
	origin := http.Header{"Origin": {"https://app.prod.test"}}
	rec := e.do(call{host: "prod.test", cookie: forged, remote: attacker, header: origin})
	expectError(t, rec, 429, 1400)
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.prod.test" || !strings.Contains(rec.Header().Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Errorf("a listed page cannot read the 429: %v", rec.Header())
	}
	// ... but a token its deployment issued passes: one this instance
	// verified (a user behind the attacker's NAT keeps polling), and one it
	// never saw, by its signature ...
	if rec := e.do(call{host: "prod.test", cookie: genuine, remote: attacker}); rec.Code != 200 {
		t.Errorf("a verified session behind the spent address: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(call{host: "prod.test", cookie: e.session("prod.test", "bob@example.com", nil), remote: attacker}); rec.Code != 200 {
		t.Errorf("a genuine token never seen here, behind the spent address: %d %s", rec.Code, rec.Body)
	}
	// ... only for its own deployment, and only alone: with a forged
	// cookie beside it, at an unknown host or at another deployment's.
	expectError(t, e.do(call{host: "prod.test", remote: attacker,
		header: http.Header{"Cookie": {"__session=" + genuine + "; __session=" + forged}}}), 429, 1400)
	expectError(t, e.do(call{host: "nobody.test", cookie: genuine, remote: attacker}), 429, 1400)
	e.do(call{host: "staging.test", cookie: e.session("staging.test", "dev@example.com", nil)}) // staging.test cached here
	expectError(t, e.do(call{host: "staging.test", cookie: genuine, remote: attacker}), 429, 1400)
	// ... and one IPv6 /64 is one client.
	for i := range 30 {
		e.do(call{host: "prod.test", cookie: forged, remote: "[2001:db8:1:2::" + strconv.Itoa(i+1) + "]:1"})
	}
	expectError(t, e.do(call{host: "prod.test", cookie: forged, remote: "[2001:db8:1:2:ffff::9]:1"}), 429, 1400)
	if rec := e.do(call{host: "prod.test", cookie: forged, remote: "[2001:db8:1:3::1]:1"}); rec.Code != 401 {
		t.Errorf("another /64: %d", rec.Code)
	}
	// The budget refills: one failure every 2 s.
	now = now.Add(2 * time.Second)
	expectError(t, e.do(call{host: "prod.test", cookie: forged, remote: attacker}), 401, 1101)
	expectError(t, e.do(call{host: "prod.test", cookie: forged, remote: attacker}), 429, 1400)

	metrics := e.get("/metrics").Body.String()
	for _, want := range []string{`memberships_rate_limited_total{limit="failures"}`, `memberships_rejections_total{code="1400"}`, `memberships_rate_limit_keys{limit="failures"} 3`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A user whose token just expired, behind an address an attacker spent,
// still refreshes: the signature proves the token was issued, whether this
// instance verified it before (kept a while past its expiry) or never saw
// it. A forger gets no such pass, and the signature checks a spent address
// can cause are bounded by the failure budget's rate.
func TestFailureBudgetLetsIssuedTokensRefresh(t *testing.T) { eachStore(t, testFailureBudgetRefresh) }

func testFailureBudgetRefresh(t *testing.T, db string) {
	now := time.Now()
	e := newEnv(t, db, server.Config{FailuresPerMinute: 30, CacheTTL: time.Hour, Now: func() time.Time { return now }})
	const office = "198.51.100.66:4000"
	// alice's token expires in 30 s; bob's expired token is never seen here.
	var ns domain.NewSession
	e.session("prod.test", "alice@example.com", func(n *domain.NewSession) { ns = *n })
	c := claims("prod.test", ns.SessionID, ns.RotatingTokenID, now)
	c["exp"] = now.Add(30 * time.Second).Unix()
	seen := e.sign("prod.test", jwt.SigningMethodES256, e.key("prod.test"), c)
	if rec := e.do(call{host: "prod.test", cookie: seen, remote: office}); rec.Code != 200 {
		t.Fatalf("first poll: %d %s", rec.Code, rec.Body)
	}
	forged := seen[:len(seen)-4] + "AAAA"
	for range 31 {
		e.do(call{host: "prod.test", cookie: forged, remote: office})
	}
	expectError(t, e.do(call{host: "prod.test", cookie: forged, remote: office}), 429, 1400)

	now = now.Add(30*time.Second + auth.Leeway + time.Second)
	unseen := e.expired("prod.test", "bob@example.com", now.Add(time.Hour))
	for name, tok := range map[string]string{"verified here before": seen, "never seen here": unseen} {
		rec := e.do(call{host: "prod.test", cookie: tok, remote: office})
		if rec.Code != 200 || !strings.Contains(rec.Header().Get("Set-Cookie"), "__session=") {
			t.Errorf("expired token %s, behind the spent address: %d %v %s", name, rec.Code, rec.Header(), rec.Body)
		}
	}
	// Forged tokens cause at most the budget's rate of signature checks:
	// after those, even a genuine unseen token waits (the cost is bounded).
	for range 80 { // the 36 s refilled both budgets a little
		e.do(call{host: "prod.test", cookie: forged, remote: office})
	}
	expectError(t, e.do(call{host: "prod.test", cookie: forged, remote: office}), 429, 1400)
	expectError(t, e.do(call{host: "prod.test", cookie: e.expired("prod.test", "carol@example.com", now.Add(time.Hour)), remote: office}), 429, 1400)
}

// A session's generous budget: polling stays far below it; a session that
// exceeds it gets 429 (readable by its page: Retry-After is exposed to
// CORS), other sessions are untouched, and the Go client says so.
func TestSessionBudget(t *testing.T) { eachStore(t, testSessionBudget) }

func testSessionBudget(t *testing.T, db string) {
	now := time.Now()
	e := newEnv(t, db, server.Config{SessionRequestsPerMinute: 3, Now: func() time.Time { return now }})
	tok, other := e.session("prod.test", "alice@example.com", nil), e.session("prod.test", "alice@example.com", nil)
	for i := range 3 {
		if rec := e.do(call{host: "prod.test", cookie: tok}); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	rec := e.do(call{host: "prod.test", cookie: tok, header: http.Header{"Origin": {"https://app.prod.test"}}})
	expectError(t, rec, 429, 1400)
	if got := rec.Header().Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After %q, want 20", got)
	}
	if got := rec.Header().Get("Access-Control-Expose-Headers"); !strings.Contains(got, "Retry-After") {
		t.Errorf("Access-Control-Expose-Headers %q lacks Retry-After", got)
	}
	if rec := e.do(call{host: "prod.test", cookie: other}); rec.Code != 200 {
		t.Errorf("another session: %d", rec.Code)
	}

	srv := httptest.NewServer(e.h)
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithSession(tok),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error { req.Host = "prod.test"; return nil }),
		client.WithHTTPClient(&http.Client{Transport: contracttest.Transport(t, nil)}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.List(context.Background())
	var ae *client.APIError
	if !client.IsRateLimited(err) || !errors.As(err, &ae) || ae.RetryAfter != 20*time.Second || ae.Code != 1400 {
		t.Errorf("client error %#v, want a rate limit with RetryAfter 20s", err)
	}
	now = now.Add(20 * time.Second)
	if _, err := c.List(context.Background()); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}
}

// 0 switches every limit off.
func TestLimitsOff(t *testing.T) {
	e := newEnv(t, tempSQLite(t), server.Config{})
	forged := e.session("prod.test", "alice@example.com", nil) + "x"
	for i := range 200 {
		if rec := e.do(call{host: "prod.test", cookie: forged, remote: "198.51.100.66:4000"}); rec.Code != 401 {
			t.Fatalf("try %d: %d", i, rec.Code)
		}
	}
}

// 200,000 distinct addresses, each failing once through the whole server,
// leave the heap a few MiB larger: nothing is kept per address beyond the
// limiter's bounded buckets.
func TestFailureBudgetMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 requests")
	}
	e := newEnv(t, tempSQLite(t), server.Config{FailuresPerMinute: 30, CacheTTL: time.Minute})
	req := httptest.NewRequest(http.MethodGet, "/me/workspace-memberships", nil)
	req.Host = "prod.test"
	send := func(i int) {
		req.RemoteAddr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1).String()
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	for range 20 { // warm the pools and caches from one address, within its budget
		send(0)
	}
	before := heapInUse()
	for i := 1; i <= 200_000; i++ {
		send(i)
	}
	grown := int64(heapInUse()) - int64(before)
	t.Logf("200,000 addresses: heap grew %.1f MiB", float64(grown)/(1<<20))
	if grown > 5<<20 {
		t.Errorf("heap grew %d bytes, want at most 5 MiB", grown)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
