package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/server"
)

// corrupted is the real store with one field of its real answer broken: a
// segment type outside the contract's enum, in a copy of the organization's
// encoded fragment (the cached one is shared and never modified).
type corrupted struct{ domain.Store }

func (c corrupted) Memberships(ctx context.Context, q domain.MembershipQuery) ([]domain.Membership, error) {
	ms, err := c.Store.Memberships(ctx, q)
	for i := range ms {
		o := *ms[i].Organization
		o.JSON = bytes.ReplaceAll(o.JSON, []byte(`"type":"organization"`), []byte(`"type":"galaxy"`))
		ms[i].Organization = &o
	}
	return ms, err
}

// The server checks its own answers: off sends the broken answer, log sends
// it and says which rule it broke, enforce sends a 500 envelope instead —
// keeping a refreshed session token, since the old one is already rotated.
func TestResponseValidation(t *testing.T) { eachStore(t, testResponseValidation) }

func testResponseValidation(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	serve := func(flag string, st domain.Store, token string) (*httptest.ResponseRecorder, string, float64) {
		t.Helper()
		modes, err := server.ParseResponseValidation(flag)
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		reg := prometheus.NewRegistry()
		h, err := server.New(server.Config{ValidateResponses: modes, Registry: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, st)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/me/workspace-memberships", nil)
		req.Host = "prod.test"
		req.Header.Set("Cookie", "__session="+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 { // a broken 200 is the point; anything else must be the contract's
			contracttest.Check(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
		}
		return rec, logs.String(), counter(t, reg, "memberships_contract_violations_total")
	}
	tok := e.session("prod.test", "alice@example.com", nil)
	for _, tc := range []struct {
		flag       string
		status     int
		violations float64
	}{
		{"off", 200, 0},
		{"log", 200, 1},
		{"enforce", 500, 1},
		{"staging=enforce", 200, 0}, // prod.test is a production deployment: off
		{"production=log,staging=off", 200, 1},
	} {
		rec, logs, n := serve(tc.flag, corrupted{e.store}, tok)
		if rec.Code != tc.status || n != tc.violations {
			t.Errorf("%s: status %d with %v violations counted, want %d and %v", tc.flag, rec.Code, n, tc.status, tc.violations)
		}
		broken := strings.Contains(rec.Body.String(), `"galaxy"`)
		if broken != (tc.status == 200) {
			t.Errorf("%s: broken answer sent: %v", tc.flag, broken)
		}
		if logged := strings.Contains(logs, "answer breaks the contract") && strings.Contains(logs, `rule="/data/0/organization/segments/0/type: value is not one of the allowed values`); logged != (n > 0) {
			t.Errorf("%s: logged %v, want %v: %s", tc.flag, logged, n > 0, logs)
		}
	}

	// A genuine answer passes enforce byte for byte.
	off, _, _ := serve("off", e.store, tok)
	enforced, _, n := serve("enforce", e.store, tok)
	if enforced.Code != 200 || n != 0 || enforced.Body.String() != off.Body.String() || enforced.Header().Get("Cache-Control") != "private, no-cache" {
		t.Errorf("a genuine answer under enforce: %d, %v violations, %d bytes vs %d", enforced.Code, n, enforced.Body.Len(), off.Body.Len())
	}

	// Refreshed, then refused: the 500 still carries the new token.
	rec, _, _ := serve("enforce", corrupted{e.store}, e.expired("prod.test", "alice@example.com", time.Now().Add(time.Hour)))
	if rec.Code != 500 || !strings.HasPrefix(rec.Header().Get("Set-Cookie"), "__session=") {
		t.Errorf("refresh under enforce: %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
}

func TestParseResponseValidation(t *testing.T) {
	for _, bad := range []string{"", "strict", "production=loud", "dev=log", "production"} {
		if _, err := server.ParseResponseValidation(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// counter sums a counter's series in reg.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
