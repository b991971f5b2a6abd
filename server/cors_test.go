package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wachtbench/memberships/server"
)

func TestCORS(t *testing.T) {
	e := newEnv(t, tempSQLite(t), server.Config{})
	tok := e.session("prod.test", "alice@example.com", nil)
	const app = "https://app.prod.test"
	preflight := func(origin, method string) http.Header {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		if method != "" {
			h.Set("Access-Control-Request-Method", method)
		}
		return h
	}
	for _, tc := range []struct {
		name         string
		call         call
		status, code int
		granted      bool
	}{
		{"listed origin", call{host: "prod.test", cookie: tok, header: preflight(app, "")}, 200, 0, true},
		{"listed origin, alias host", call{host: "alias.prod.test", cookie: tok, header: preflight(app, "")}, 200, 0, true},
		{"listed origin, error envelope readable", call{host: "prod.test", header: preflight(app, "")}, 401, 1100, true},
		{"unlisted origin", call{host: "prod.test", cookie: tok, header: preflight("https://evil.test", "")}, 200, 0, false},
		{"origin of another deployment", call{host: "other.test", header: preflight(app, "")}, 401, 1100, false},
		{"look-alike origin", call{host: "prod.test", cookie: tok, header: preflight("https://app.prod.test.evil.test", "")}, 200, 0, false},
		{"null origin", call{host: "prod.test", cookie: tok, header: preflight("null", "")}, 200, 0, false},
		{"no origin", call{host: "prod.test", cookie: tok}, 200, 0, false},
		{"unknown host", call{host: "nowhere.test", header: preflight(app, "")}, 404, 1200, false},

		{"preflight, listed origin", call{method: http.MethodOptions, host: "prod.test", header: preflight(app, "GET")}, 204, 0, true},
		{"preflight, other listed origin", call{method: http.MethodOptions, host: "prod.test", header: preflight("http://localhost:5173", "GET")}, 204, 0, true},
		{"preflight, unlisted origin", call{method: http.MethodOptions, host: "prod.test", header: preflight("https://evil.test", "GET")}, 204, 0, false},
		{"preflight, method not offered", call{method: http.MethodOptions, host: "prod.test", header: preflight(app, "DELETE")}, 204, 0, false},
		{"preflight, unknown host", call{method: http.MethodOptions, host: "nowhere.test", header: preflight(app, "GET")}, 404, 1200, false},
		{"preflight, unknown path", call{method: http.MethodOptions, host: "prod.test", path: "/nope", header: preflight(app, "GET")}, 404, 1201, false},
		{"OPTIONS that is no preflight", call{method: http.MethodOptions, host: "prod.test"}, 405, 1300, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(tc.call)
			if tc.code != 0 {
				expectError(t, rec, tc.status, tc.code)
			} else if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			h := rec.Header()
			origin := tc.call.header.Get("Origin")
			if tc.granted {
				if h.Get("Access-Control-Allow-Origin") != origin || h.Get("Access-Control-Allow-Credentials") != "true" {
					t.Errorf("no grant for %s: %v", origin, h)
				}
			} else if h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("grant for %q: %v", origin, h)
			}
			if tc.status != 404 && tc.status != 405 && !slices.Contains(h.Values("Vary"), "Origin") {
				t.Errorf("Vary %q lacks Origin", h.Values("Vary"))
			}
			if tc.granted && tc.call.method != http.MethodOptions && !strings.Contains(h.Get("Access-Control-Expose-Headers"), "X-Development-Session") {
				t.Errorf("the refreshed staging token is not exposed: %v", h)
			}
			if tc.call.method == http.MethodOptions && tc.granted {
				if h.Get("Access-Control-Allow-Methods") != "GET" || h.Get("Access-Control-Max-Age") == "" {
					t.Errorf("preflight grant incomplete: %v", h)
				}
			}
		})
	}
}
