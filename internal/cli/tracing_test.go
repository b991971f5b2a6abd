package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// collector is an OTLP/HTTP endpoint that keeps the names of the spans
// posted to /v1/traces, and the service that sent them.
type collector struct {
	*httptest.Server
	mu       sync.Mutex
	posts    int
	spans    []string
	services []string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err != nil || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.posts++
		for _, rs := range req.ResourceSpans {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					c.services = append(c.services, kv.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					c.spans = append(c.spans, sp.Name)
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(nil) // an empty ExportTraceServiceResponse: all accepted
	}))
	t.Cleanup(c.Close)
	return c
}

// serve exports the spans of the requests it served to the collector named
// by --otlp-endpoint, its variable or the standard OTEL_ ones, at the
// latest when it shuts down (spans are batched).
func TestServeExportsTraces(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags func(url string) []string
		env   func(url string) map[string]string
	}{
		{"flag", func(u string) []string { return []string{"--otlp-endpoint", u} }, nil},
		{"MEMBERSHIPS_OTLP_ENDPOINT", nil, func(u string) map[string]string { return map[string]string{"MEMBERSHIPS_OTLP_ENDPOINT": u} }},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", nil, func(u string) map[string]string { return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": u} }},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", nil, func(u string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": u + "/v1/traces"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector(t)
			var flags []string
			env := map[string]string{}
			if tc.flags != nil {
				flags = tc.flags(c.URL)
			}
			if tc.env != nil {
				env = tc.env(c.URL)
			}
			// Registered before the server starts, so it runs after the
			// server's own cleanup has shut it down.
			t.Cleanup(func() {
				c.mu.Lock()
				defer c.mu.Unlock()
				if c.posts == 0 {
					t.Error("serve posted no spans to /v1/traces")
					return
				}
				for _, want := range []string{"GET /readyz", "store.ping", "SELECT"} {
					if !slices.Contains(c.spans, want) {
						t.Errorf("exported spans %v lack %q", c.spans, want)
					}
				}
				if len(c.services) == 0 || c.services[0] != "memberships" {
					t.Errorf("service.name %v", c.services)
				}
			})
			url, _ := startServerEnv(t, func(k string) string { return env[k] }, filepath.Join(t.TempDir(), "t.db"), flags...)
			resp, err := http.Get(url + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("readyz: %d", resp.StatusCode)
			}
		})
	}
}

// A standard variable that does not name an http(s) URL is a usage error
// naming it, before anything listens.
func TestOTLPEndpointVariableRefused(t *testing.T) {
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			return "collector:4318"
		}
		return ""
	}
	code := Run(context.Background(), []string{"serve", "--db", filepath.Join(t.TempDir(), "t.db"), "--addr", "127.0.0.1:0"}, getenv, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "OTEL_EXPORTER_OTLP_ENDPOINT") {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}
