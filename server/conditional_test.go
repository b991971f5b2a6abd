package server_test

import (
	"net/http"
	"testing"

	"github.com/wachtbench/memberships/server"
)

// Every 200 carries a strong ETag of its bytes; If-None-Match naming it gets
// 304 with no body, and an ETag never answers for another session, filter or
// client address whose answer differs.
func TestConditionalRequests(t *testing.T) { eachStore(t, testConditionalRequests) }

func testConditionalRequests(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	alice := e.session("prod.test", "alice@example.com", nil)
	get := func(c call, inm string) (int, string, string) {
		t.Helper()
		c.host = "prod.test"
		if inm != "" {
			c.header = http.Header{"If-None-Match": {inm}}
		}
		rec := e.do(c)
		if cc := rec.Header().Get("Cache-Control"); cc != "private, no-cache" {
			t.Errorf("status %d: Cache-Control %q", rec.Code, cc)
		}
		return rec.Code, rec.Header().Get("ETag"), rec.Body.String()
	}
	base := call{cookie: alice, remote: "192.0.2.1:5555"}
	code, etag, body := get(base, "")
	if code != 200 || len(etag) < 3 || etag[0] != '"' {
		t.Fatalf("first answer %d, ETag %q", code, etag)
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		if code, got, body := get(base, inm); code != 304 || got != etag || body != "" {
			t.Errorf("If-None-Match %s: %d, ETag %q, body %q; want 304, %q, empty", inm, code, got, body, etag)
		}
	}
	if code, _, _ := get(base, `"stale"`); code != 200 {
		t.Errorf("a stale ETag: %d, want 200", code)
	}

	// Whatever else the answer depends on: the ETag matches only the same bytes.
	other := base
	other.cookie = e.session("prod.test", "alice@example.com", nil) // another session of the same user
	filtered := base
	filtered.path = "/me/workspace-memberships?org_id=130"
	elsewhere := base
	elsewhere.remote = "198.51.100.7:5555"
	for name, c := range map[string]call{"another session": other, "a filter": filtered, "another address": elsewhere} {
		_, etag2, body2 := get(c, "")
		if (etag2 == etag) != (body2 == body) {
			t.Errorf("%s: ETag %q for the first's %q, bodies equal: %v", name, etag2, etag, body2 == body)
		}
		if code, _, _ := get(c, etag); (code == 304) != (etag2 == etag) {
			t.Errorf("%s: If-None-Match with the first ETag: %d", name, code)
		}
		if name != "another address" && etag2 == etag {
			t.Errorf("%s: the same ETag, but the answer differs", name)
		}
	}
}
