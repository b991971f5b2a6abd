package server_test

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	memberships "github.com/wachtbench/memberships"
	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/server"
)

// FuzzOrgIDPattern: the contract's id pattern accepts exactly the canonical
// decimal form of the int64 values 0…MaxInt64, so the validator, not the
// handler, turns every malformed org_id into a 400.
func FuzzOrgIDPattern(f *testing.F) {
	spec, err := openapi3.NewLoader().LoadFromData(memberships.OpenAPI)
	if err != nil {
		f.Fatal(err)
	}
	pattern := regexp.MustCompile(spec.Components.Schemas["Id"].Value.Pattern)
	for _, s := range []string{"0", "1", "01", "-1", "9223372036854775807", "9223372036854775808", "١٢", "1e3", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := strconv.ParseInt(s, 10, 64)
		canonical := err == nil && v >= 0 && strconv.FormatInt(v, 10) == s
		if pattern.MatchString(s) != canonical {
			t.Fatalf("%q: pattern says %v, strconv says %v", s, !canonical, canonical)
		}
	})
}

// FuzzHandler: random hosts, cookies and query strings never panic, never
// fail inside (500), and every answer satisfies the contract.
func FuzzHandler(f *testing.F) {
	e := newEnv(f, server.Config{})
	good := e.session("prod.test", "alice@example.com", nil)
	f.Add("prod.test", "__session="+good, "org_id=130")
	f.Add("staging.test", "", "__dev_session__="+good)
	f.Add("PROD.test:99", "__session="+good+"; __session=x", "org_id=1&org_id=2")
	f.Add("[::1]:80", "__session", "%zz&org_id=%00")
	f.Fuzz(func(t *testing.T, host, cookie, query string) {
		req, err := http.NewRequest(http.MethodGet, "http://placeholder/me/workspace-memberships", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host, req.URL.RawQuery, req.RemoteAddr = host, query, "192.0.2.1:1234"
		req.Header.Set("Cookie", cookie)
		rec := contracttest.Serve(t, e.h, req)
		switch rec.Code {
		case 200, 400, 401, 404:
		default:
			t.Fatalf("host %q cookie %q query %q: %d %s", host, cookie, query, rec.Code, rec.Body)
		}
	})
}
