package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/server"
)

// corrupted is the real store with one field of its real answer broken: a
// workspace segment of a type the contract does not know.
type corrupted struct{ domain.Store }

func (c corrupted) Memberships(ctx context.Context, q domain.MembershipQuery) ([]domain.Membership, error) {
	ms, err := c.Store.Memberships(ctx, q)
	for i := range ms {
		w := *ms[i].Workspace // shared with the store's cache: broken on a copy
		w.Segments = []domain.Segment{{ID: 1, DeploymentID: 1, Name: "g", Type: "galaxy"}}
		ms[i].Workspace = &w
	}
	return ms, err
}

// The server checks its own answers: off sends the broken answer, log sends
// it and says which rule it broke, enforce sends a 500 envelope instead —
// keeping a refreshed session token, since the old one is already rotated.
func TestResponseValidation(t *testing.T) { eachStore(t, testResponseValidation) }

func testResponseValidation(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	ifNoneMatch := ""
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
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
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
		if logged := strings.Contains(logs, "answer breaks the contract") && strings.Contains(logs, `rule="/data/0/workspace/segments/0/type: value is not one of the allowed values`); logged != (n > 0) {
			t.Errorf("%s: logged %v, want %v: %s", tc.flag, logged, n > 0, logs)
		}
	}

	// A broken answer that an instance only logging let through is not
	// confirmed by a 304 from one enforcing: enforce checks a whole answer.
	logged, _, _ := serve("log", corrupted{e.store}, tok)
	ifNoneMatch = logged.Header().Get("ETag")
	if rec, _, _ := serve("enforce", corrupted{e.store}, tok); ifNoneMatch == "" || rec.Code != 500 {
		t.Errorf("enforce revalidating a broken answer's ETag %q: %d, want 500", ifNoneMatch, rec.Code)
	}
	if rec, _, _ := serve("log", corrupted{e.store}, tok); rec.Code != 304 {
		t.Errorf("log revalidating its own answer: %d, want 304", rec.Code)
	}
	ifNoneMatch = ""

	// A genuine answer passes enforce byte for byte.
	off, _, _ := serve("off", e.store, tok)
	enforced, _, n := serve("enforce", e.store, tok)
	if enforced.Code != 200 || n != 0 || enforced.Body.String() != off.Body.String() || enforced.Header().Get("Cache-Control") != "private, no-cache" {
		t.Errorf("a genuine answer under enforce: %d, %v violations, %d bytes vs %d", enforced.Code, n, enforced.Body.Len(), off.Body.Len())
	}

	// Refreshed, then refused: the 500 still carries the new token.
	rec, _, _ := serve("enforce", corrupted{e.store}, e.expired("prod.test", "alice@example.com", time.Now().Add(time.Hour)))
	delivered := false
	for _, ck := range rec.Result().Cookies() {
		delivered = delivered || ck.Name == "__session" && ck.Value != ""
	}
	if rec.Code != 500 || !delivered || rec.Header().Get("ETag") != "" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("refresh under enforce: %d, Set-Cookie %q, ETag %q, Cache-Control %q", rec.Code,
			rec.Header().Values("Set-Cookie"), rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"))
	}
	// The broken answer's length is not the envelope's.
	if cl := rec.Header().Get("Content-Length"); cl != "" && cl != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("500 envelope of %d bytes with Content-Length %q", rec.Body.Len(), cl)
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
