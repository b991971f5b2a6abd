package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	memberships "github.com/wachtbench/memberships"
	"github.com/wachtbench/memberships/internal/store/fragment"
	"github.com/wachtbench/memberships/server"
)

// get calls an operational endpoint: these live outside the contract, so
// their answers are checked here rather than by contracttest.
func (e *env) get(path string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = "ops.internal" // not a deployment: operational routes ignore Host
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func TestOperationalEndpoints(t *testing.T) {
	e := newEnv(t, tempSQLite(t), server.Config{})
	for _, tc := range []struct {
		path, contentType string
		contains          []string
	}{
		{"/healthz", "application/json", []string{`"status":"ok"`}},
		{"/readyz", "application/json", []string{`"status":"ok"`}},
		{"/openapi.yaml", "application/yaml", []string{string(memberships.OpenAPI)}},
		{"/openapi.json", "application/json", []string{`"openapi":"3.0.3"`, `"/me/workspace-memberships"`, `"GetUserWorkspaceMemberships"`}},
		{"/docs", "text/html", []string{"swagger-ui-bundle.js", "/docs/init.js"}},
		{"/docs/", "text/html", []string{"swagger-ui-bundle.js"}},
		{"/docs/init.js", "javascript", []string{`url: "/openapi.json"`}},
		{"/docs/swagger-ui-bundle.js", "javascript", []string{"SwaggerUIBundle"}},
		{"/docs/swagger-ui.css", "text/css", []string{".swagger-ui"}},
		{"/metrics", "text/plain", []string{"go_goroutines", "memberships_store_duration_seconds"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := e.get(tc.path)
			if rec.Code != 200 {
				t.Fatalf("status %d: %.200s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %s", ct, tc.contentType)
			}
			for _, want := range tc.contains {
				if !strings.Contains(rec.Body.String(), want) {
					t.Errorf("body lacks %.80q", want)
				}
			}
		})
	}
	var spec struct {
		Info struct{ Version string } `json:"info"`
	}
	if err := json.Unmarshal(e.get("/openapi.json").Body.Bytes(), &spec); err != nil || spec.Info.Version == "" {
		t.Errorf("openapi.json: %v %+v", err, spec)
	}
	// Outside the contract, a wrong method is still the 405 envelope.
	expectError(t, e.do(call{method: http.MethodPost, host: "prod.test", path: "/healthz"}), 405, 1300)

	e.store.Close()
	if rec := e.get("/readyz"); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "unavailable") {
		t.Errorf("readyz on a closed store: %d %s", rec.Code, rec.Body)
	}
	if rec := e.get("/healthz"); rec.Code != 200 {
		t.Errorf("healthz on a closed store: %d (liveness must not depend on the database)", rec.Code)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, tempSQLite(t), server.Config{})
	tok := e.session("prod.test", "alice@example.com", nil)
	e.do(call{host: "prod.test", cookie: tok})
	e.do(call{host: "prod.test"})
	e.do(call{host: "prod.test", cookie: "garbage"})
	e.do(call{host: "prod.test", cookie: tok, path: "/me/workspace-memberships?org_id=x"})
	e.do(call{host: "nowhere.test", cookie: tok})
	e.do(call{host: "prod.test", path: "/nope/42"})
	body := e.get("/metrics").Body.String()
	for _, want := range []string{
		`memberships_http_requests_total{method="GET",route="/me/workspace-memberships",status="200"} 1`,
		`memberships_http_requests_total{method="GET",route="/me/workspace-memberships",status="401"} 2`,
		`memberships_http_requests_total{method="GET",route="/me/workspace-memberships",status="400"} 1`,
		`memberships_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`memberships_http_request_duration_seconds_count{method="GET",route="/me/workspace-memberships"} 5`,
		`memberships_rejections_total{code="1000"} 1`,
		`memberships_rejections_total{code="1100"} 1`,
		`memberships_rejections_total{code="1101"} 1`,
		`memberships_rejections_total{code="1200"} 1`,
		`memberships_rejections_total{code="1201"} 1`,
		`memberships_auth_failures_total{reason="missing_session"} 1`,
		`memberships_auth_failures_total{reason="invalid_session"} 1`,
		`memberships_store_duration_seconds_count{op="memberships",result="ok"} 1`,
		`memberships_store_duration_seconds_count{op="deployment_by_host",result="not_found"} 1`,
		`memberships_store_duration_seconds_count{op="session",result="ok"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "/nope") {
		t.Error("an unmatched path became a label")
	}
}

func TestAccessLog(t *testing.T) {
	var buf bytes.Buffer
	e := newEnv(t, tempSQLite(t), server.Config{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	tok := e.session("prod.test", "alice@example.com", nil)
	e.do(call{host: "prod.test", cookie: tok, header: http.Header{"X-Request-Id": {"trace-7"}}})
	e.do(call{host: "prod.test", path: "/me/workspace-memberships?__dev_session__=" + tok})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines: %s", len(lines), buf.String())
	}
	for i, want := range []struct {
		id     string
		status float64
	}{{"trace-7", 200}, {"", 401}} {
		var l map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &l); err != nil {
			t.Fatal(err)
		}
		if want.id != "" && l["request_id"] != want.id || l["request_id"] == "" {
			t.Errorf("line %d: request_id %v", i, l["request_id"])
		}
		if l["deployment_id"] != float64(100) || l["status"] != want.status || l["latency"] == nil {
			t.Errorf("line %d: %s", i, lines[i])
		}
	}
	if strings.Contains(buf.String(), tok) {
		t.Error("a token reached the log")
	}
}

// Whatever methods and paths clients invent, the series stay the same:
// methods outside the HTTP set are "other", unknown paths "unmatched".
func TestMetricsLabelsBounded(t *testing.T) {
	e := newEnv(t, tempSQLite(t), server.Config{})
	series := func() int {
		n := 0
		for _, line := range strings.Split(e.get("/metrics").Body.String(), "\n") {
			if strings.HasPrefix(line, "memberships_") {
				n++
			}
		}
		return n
	}
	invent := func(i int) {
		for _, host := range []string{"prod.test", "nowhere.test"} {
			n := strconv.Itoa(i)
			for _, c := range []struct{ method, path string }{
				{"BREW" + n, "/me/workspace-memberships"},
				{"PROPFIND", "/me/workspace-memberships/" + n},
				{http.MethodGet, "/x" + n + "/y"},
				{"X-" + n, "/docs/" + n},
			} {
				req := httptest.NewRequest(c.method, c.path, nil)
				req.Host = host
				e.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		}
	}
	invent(0)
	series() // the scrape itself is a series
	before := series()
	for i := 1; i <= 200; i++ {
		invent(i)
	}
	if after := series(); after != before {
		t.Errorf("800 invented methods and paths made %d series out of %d", after-before, before)
	}
	body := e.get("/metrics").Body.String()
	if !strings.Contains(body, `method="other"`) || strings.Contains(body, "BREW") || strings.Contains(body, "/x1") {
		t.Error("an invented method or path became a label")
	}
}

// The fragment cache's lookups are counted: a user's first answer misses,
// the same answer again only hits.
func TestFragmentCacheMetrics(t *testing.T) {
	frag := fragment.NewCache(100)
	e := newEnv(t, tempSQLite(t), server.Config{Fragments: frag})
	tok := e.session("prod.test", "alice@example.com", nil)
	lookups := func() (hit, miss string) {
		body := e.get("/metrics").Body.String()
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, `memberships_fragment_cache_lookups_total{result="hit"} `); ok {
				hit = v
			}
			if v, ok := strings.CutPrefix(line, `memberships_fragment_cache_lookups_total{result="miss"} `); ok {
				miss = v
			}
		}
		return hit, miss
	}
	e.do(call{host: "prod.test", cookie: tok})
	hit1, miss1 := lookups()
	e.do(call{host: "prod.test", cookie: tok})
	hit2, miss2 := lookups()
	h1, m1 := frag.Stats()
	if hit1 != "0" || miss1 == "0" || miss1 == "" || miss2 != miss1 || hit2 != miss1 {
		t.Errorf("lookups: first answer hit %s miss %s, second hit %s miss %s (cache: %d %d)", hit1, miss1, hit2, miss2, h1, m1)
	}
	// Its encodings likewise: the second answer's all kept.
	encodings := func() (hit, miss int) {
		body := e.get("/metrics").Body.String()
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, `memberships_answer_encodings_total{result="hit"} `); ok {
				hit, _ = strconv.Atoi(v)
			}
			if v, ok := strings.CutPrefix(line, `memberships_answer_encodings_total{result="miss"} `); ok {
				miss, _ = strconv.Atoi(v)
			}
		}
		return hit, miss
	}
	h, m := encodings()
	// From another address (the same answer again would be sent as kept).
	e.do(call{host: "prod.test", cookie: tok, remote: "192.0.2.9:4000"})
	perAnswer := (h + m) / 2 // two equal answers so far
	if h2, m2 := encodings(); m == 0 || m2 != m || h2-h != perAnswer {
		t.Errorf("encodings: %d hits %d misses, then %d and %d; want all %d of the third answer kept", h, m, h2, m2, perAnswer)
	}
}
