package server_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/server"
)

// clock is a settable time source for the server.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock() *clock               { c := &clock{}; c.ns.Store(time.Now().UnixNano()); return c }
func rotatingClaim(t *testing.T, token string) string {
	t.Helper()
	var c auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		t.Errorf("parsing %q: %v", token, err) // Errorf: also called from goroutines
	}
	return c.RotatingToken
}

// newCookie returns the __session value a response sets, "" when none,
// checking what is set: the expiry of a host-only cookie, then a persistent
// cookie for the deployment's domain, both HttpOnly, Secure, SameSite=Lax,
// Path=/.
func newCookie(t *testing.T, h http.Header) string {
	t.Helper()
	value := ""
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name != "__session" {
			continue
		}
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Errorf("cookie attributes: %s", c)
		}
		switch {
		case value != "":
			t.Errorf("a second cookie after the session cookie: %s", c)
		case c.Value == "":
			if c.Domain != "" || c.MaxAge >= 0 {
				t.Errorf("an empty cookie that is not a host-only expiry: %s", c)
			}
		case c.Domain == "" || c.MaxAge <= 0 || c.Expires.IsZero():
			t.Errorf("not a persistent domain cookie: %s", c)
		default:
			value = c.Value
		}
	}
	return value
}

func TestRefreshRotatesAndDetectsReuse(t *testing.T) { eachStore(t, testRefreshRotatesAndDetectsReuse) }

func testRefreshRotatesAndDetectsReuse(t *testing.T, db string) {
	clk := newClock()
	e := newEnv(t, db, server.Config{Now: clk.now})
	old := e.expired("prod.test", "alice@example.com", clk.now().Add(24*time.Hour))

	rec := e.do(call{host: "prod.test", cookie: old})
	if rec.Code != 200 {
		t.Fatalf("expired token with a live rotating token: %d %s", rec.Code, rec.Body)
	}
	fresh := newCookie(t, rec.Header())
	if fresh == "" || fresh == old {
		t.Fatalf("no new session cookie: %v", rec.Header())
	}
	successor := rotatingClaim(t, fresh)

	// The new token works and sets nothing.
	if rec := e.do(call{host: "prod.test", cookie: fresh}); rec.Code != 200 || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("new token: %d %v", rec.Code, rec.Header())
	}
	// Another tab with the old token, within the grace window: same successor.
	clk.add(auth.RefreshGrace / 2)
	rec = e.do(call{host: "prod.test", cookie: old})
	if rec.Code != 200 || rotatingClaim(t, newCookie(t, rec.Header())) != successor {
		t.Fatalf("second tab: %d %v", rec.Code, rec.Header())
	}
	// The old token after the grace window is reuse: the session dies.
	clk.add(auth.RefreshGrace)
	expectError(t, e.do(call{host: "prod.test", cookie: old}), 401, 1103)
	expectError(t, e.do(call{host: "prod.test", cookie: fresh}), 401, 1103)
}

func TestRefreshOnStagingUsesHeader(t *testing.T) { eachStore(t, testRefreshOnStagingUsesHeader) }

func testRefreshOnStagingUsesHeader(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	old := e.expired("staging.test", "dev@example.com", time.Now().Add(time.Hour))
	rec := e.do(call{host: "staging.test", path: "/me/workspace-memberships?__dev_session__=" + old})
	if rec.Code != 200 || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	fresh := rec.Header().Get("X-Development-Session")
	if fresh == "" || strings.Count(fresh, ".") != 2 {
		t.Fatalf("X-Development-Session %q", fresh)
	}
	if rec := e.do(call{host: "staging.test", path: "/me/workspace-memberships?__dev_session__=" + fresh}); rec.Code != 200 {
		t.Fatalf("new dev token: %d", rec.Code)
	}
}

// Tabs refreshing the same expired token at once all succeed on one successor.
func TestConcurrentRefreshesConverge(t *testing.T) { eachStore(t, testConcurrentRefreshesConverge) }

func testConcurrentRefreshesConverge(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	old := e.expired("prod.test", "alice@example.com", time.Now().Add(time.Hour))
	var wg sync.WaitGroup
	claimsSeen := make([]string, 6)
	for i := range claimsSeen {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := e.do(call{host: "prod.test", cookie: old})
			if rec.Code != 200 {
				t.Errorf("tab %d: %d %s", i, rec.Code, rec.Body)
				return
			}
			claimsSeen[i] = rotatingClaim(t, newCookie(t, rec.Header()))
		}()
	}
	wg.Wait()
	for _, c := range claimsSeen {
		if c != claimsSeen[0] {
			t.Fatalf("successors diverge: %v", claimsSeen)
		}
	}
}
