package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/server"
)

// An incoming W3C trace context: its trace is continued.
const (
	incomingTrace  = "0af7651916cd43dd8448eb211c80319c"
	incomingParent = "b7ad6b7169203331"
	traceparent    = "00-" + incomingTrace + "-" + incomingParent + "-01"
)

// tracedEnv is a server and its store tracing to an in-memory exporter,
// logging JSON to logs.
func tracedEnv(t *testing.T, db string, logs *lockedBuffer) (*env, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	e := newEnv(t, db, server.Config{TracerProvider: tp,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return e, exp
}

// spanTree indexes one request's spans.
type spanTree struct {
	t     *testing.T
	spans tracetest.SpanStubs
}

func (tr spanTree) server() tracetest.SpanStub {
	tr.t.Helper()
	var found []tracetest.SpanStub
	for _, s := range tr.spans {
		if s.SpanKind == trace.SpanKindServer {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		tr.t.Fatalf("%d server spans, want 1: %v", len(found), names(tr.spans))
	}
	return found[0]
}

// child is the one span named name whose parent is p.
func (tr spanTree) child(p tracetest.SpanStub, name string) tracetest.SpanStub {
	tr.t.Helper()
	for _, s := range tr.children(p) {
		if s.Name == name {
			return s
		}
	}
	tr.t.Fatalf("no span %q under %q: %v", name, p.Name, names(tr.spans))
	return tracetest.SpanStub{}
}

func (tr spanTree) children(p tracetest.SpanStub) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range tr.spans {
		if s.Parent.SpanID() == p.SpanContext.SpanID() && s.SpanContext.TraceID() == p.SpanContext.TraceID() {
			out = append(out, s)
		}
	}
	return out
}

// statements checks that p has statement spans of system, and returns them.
func (tr spanTree) statements(p tracetest.SpanStub, system string) []tracetest.SpanStub {
	tr.t.Helper()
	var out []tracetest.SpanStub
	for _, s := range tr.children(p) {
		if a := attrs(s); a["db.system.name"].AsString() == system && a["db.query.text"].AsString() != "" && s.SpanKind == trace.SpanKindClient {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		tr.t.Errorf("no %s statement span under %q: %v", system, p.Name, names(tr.spans))
	}
	return out
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func dbSystem(db string) string {
	if strings.HasPrefix(db, "postgres") {
		return "postgresql"
	}
	return "sqlite"
}

// A request through the real server and store is one trace, continuing the
// caller's: the HTTP span, under it the store calls and the authentication
// (with its session lookup), and under each store call its statements; the
// access log line names the trace and the HTTP span.
func TestTracing(t *testing.T) { eachStore(t, testTracing) }

func testTracing(t *testing.T, db string) {
	var logs lockedBuffer
	e, exp := tracedEnv(t, db, &logs)
	tok := e.session("prod.test", "alice@example.com", nil)
	exp.Reset() // setting up is no request
	logs.b.Reset()
	rec := e.do(call{host: "prod.test", cookie: tok, header: http.Header{"Traceparent": {traceparent}}})
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	tr := spanTree{t, exp.GetSpans()}
	srv := tr.server()
	if srv.Name != "GET /me/workspace-memberships" || srv.SpanContext.TraceID().String() != incomingTrace ||
		srv.Parent.SpanID().String() != incomingParent || !srv.Parent.IsRemote() {
		t.Errorf("server span %q, trace %s, parent %s (remote %v): not the incoming trace's", srv.Name,
			srv.SpanContext.TraceID(), srv.Parent.SpanID(), srv.Parent.IsRemote())
	}
	a := attrs(srv)
	for k, want := range map[attribute.Key]any{
		"http.request.method": "GET", "http.route": "/me/workspace-memberships", "http.response.status_code": int64(200),
		"url.scheme": "http", "server.address": "prod.test", "memberships.deployment.id": int64(100),
	} {
		if got := a[k].AsInterface(); got != want {
			t.Errorf("server span %s = %v, want %v", k, got, want)
		}
	}
	for _, s := range tr.spans {
		if s.SpanContext.TraceID().String() != incomingTrace {
			t.Errorf("span %q is in trace %s", s.Name, s.SpanContext.TraceID())
		}
	}
	system := dbSystem(db)
	tr.statements(tr.child(srv, "store.deployment_by_host"), system)
	authn := tr.child(srv, "authenticate")
	if got := attrs(authn)["memberships.auth.scheme"].AsString(); got != "sessionCookie" {
		t.Errorf("authenticate span scheme %q", got)
	}
	tr.statements(tr.child(authn, "store.session"), system)
	tr.statements(tr.child(srv, "store.memberships"), system)

	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(logs.b.String())), &line); err != nil || line["msg"] != "request" {
		t.Fatalf("access log: %v %s", err, logs.b.String())
	}
	if line["trace_id"] != incomingTrace || line["span_id"] != srv.SpanContext.SpanID().String() {
		t.Errorf("access log trace_id %v span_id %v; want %s %s", line["trace_id"], line["span_id"], incomingTrace, srv.SpanContext.SpanID())
	}

	// Without a traceparent the request starts a trace of its own.
	exp.Reset()
	e.do(call{host: "prod.test", cookie: tok})
	if srv := (spanTree{t, exp.GetSpans()}).server(); srv.Parent.IsValid() || srv.SpanContext.TraceID().String() == incomingTrace {
		t.Errorf("a request without traceparent joined trace %s", srv.SpanContext.TraceID())
	}
}

// An expired token is refreshed under a refresh span, its transaction's
// statements beneath it.
func TestTracingRefresh(t *testing.T) { eachStore(t, testTracingRefresh) }

func testTracingRefresh(t *testing.T, db string) {
	var logs lockedBuffer
	e, exp := tracedEnv(t, db, &logs)
	old := e.expired("prod.test", "alice@example.com", time.Now().Add(time.Hour))
	exp.Reset()
	rec := e.do(call{host: "prod.test", cookie: old})
	if rec.Code != 200 || newCookie(t, rec.Header()) == "" {
		t.Fatalf("refresh: %d %v", rec.Code, rec.Header())
	}
	tr := spanTree{t, exp.GetSpans()}
	srv := tr.server()
	if !attrs(tr.child(srv, "authenticate"))["memberships.auth.expired"].AsBool() {
		t.Error("authenticate span does not say the token had expired")
	}
	refresh := tr.child(srv, "refresh")
	ops := map[string]bool{}
	for _, s := range tr.statements(refresh, dbSystem(db)) {
		ops[s.Name] = true
	}
	if !ops["BEGIN"] || !ops["COMMIT"] {
		t.Errorf("refresh statements %v lack the transaction", ops)
	}
	if refresh.Status.Code == codes.Error {
		t.Errorf("refresh span failed: %v", refresh.Status)
	}
}

// No span records a token, a cookie, a __dev_session__ value, a private key
// or private metadata, whatever the request and its outcome.
func TestNoSecretsInSpans(t *testing.T) {
	var logs lockedBuffer
	e, exp := tracedEnv(t, tempSQLite(t), &logs)
	good := e.session("prod.test", "alice@example.com", nil)
	dev := e.session("staging.test", "dev@example.com", nil)
	expired := e.expired("prod.test", "alice@example.com", time.Now().Add(time.Hour))
	expiredDev := e.expired("staging.test", "dev@example.com", time.Now().Add(time.Hour))
	exp.Reset()
	calls := []call{
		{host: "prod.test", cookie: good, header: http.Header{"Traceparent": {traceparent}, "Authorization": {"Bearer " + good}}},
		{host: "prod.test", cookie: good + "x"},
		{host: "prod.test", cookie: expired},
		{host: "staging.test", path: "/me/workspace-memberships?__dev_session__=" + dev},
		{host: "staging.test", path: "/me/workspace-memberships?__dev_session__=" + expiredDev},
		{host: "staging.test", path: "/me/workspace-memberships?__dev_session__=" + dev + "&org_id=x"},
		{host: "nowhere.test", cookie: good},
		{host: "prod.test", cookie: good, path: "/nope?__dev_session__=" + dev},
	}
	for _, c := range calls {
		e.do(c)
	}
	e.store.Close() // and a 500
	e.do(call{host: "prod.test", cookie: good})

	spans := exp.GetSpans()
	var text strings.Builder
	servers := 0
	for _, s := range spans {
		text.WriteString(s.Name + "\n" + s.Status.Description + "\n")
		for _, kv := range s.Attributes {
			text.WriteString(string(kv.Key) + "=" + kv.Value.Emit() + "\n")
		}
		for _, ev := range s.Events {
			text.WriteString(ev.Name + "\n")
			for _, kv := range ev.Attributes {
				text.WriteString(string(kv.Key) + "=" + kv.Value.Emit() + "\n")
			}
		}
		for _, l := range s.Links {
			for _, kv := range l.Attributes {
				text.WriteString(string(kv.Key) + "=" + kv.Value.Emit() + "\n")
			}
		}
		if s.SpanKind == trace.SpanKindServer {
			servers++
			if s.Name == "GET /nope" || attrs(s)["http.route"].AsString() == "/nope" {
				t.Errorf("an unmatched path named a span: %q", s.Name)
			}
		}
	}
	if servers != len(calls)+1 {
		t.Fatalf("%d server spans for %d requests; the test proves nothing", servers, len(calls)+1)
	}
	all := text.String()
	for _, s := range []string{good, dev, expired, expiredDev, "PRIVATE KEY", "never-served", "hidden", "__dev_session__", "__session", "Bearer", "org_id="} { // no query string either
		sig := s[strings.LastIndex(s, ".")+1:]
		if strings.Contains(all, s) || (len(sig) > 20 && strings.Contains(all, sig)) {
			t.Errorf("a span holds a secret (%.20s…)", s)
		}
	}
	var failed bool
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindServer && attrs(s)["http.response.status_code"].AsInt64() == 500 {
			failed = s.Status.Code == codes.Error && attrs(s)["error.type"].AsString() == "500"
		}
	}
	if !failed {
		t.Error("the 500 is not a failed server span with error.type 500")
	}
}

// With no tracer provider nothing is traced: an incoming traceparent is
// ignored and log lines carry no trace id.
func TestTracingOff(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, tempSQLite(t), server.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	tok := e.session("prod.test", "alice@example.com", nil)
	if rec := e.do(call{host: "prod.test", cookie: tok, header: http.Header{"Traceparent": {traceparent}}}); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(logs.b.String(), "trace_id") || !strings.Contains(logs.b.String(), `"request_id"`) {
		t.Errorf("log with tracing off: %s", logs.b.String())
	}
}

// What a request sends is bounded in its spans: a Host that names no
// deployment is not recorded, and an oversized tracestate is dropped while
// the trace continues.
func TestTracingHostileHeaders(t *testing.T) {
	e, exp := tracedEnv(t, tempSQLite(t), &lockedBuffer{})
	huge := strings.Repeat("a", 100_000) + ".test"
	if rec := e.do(call{host: huge}); rec.Code != 404 {
		t.Fatalf("an unknown Host: %d", rec.Code)
	}
	tr := spanTree{t, exp.GetSpans()}
	if a, ok := attrs(tr.server())[semconv.ServerAddressKey]; ok {
		t.Errorf("server.address recorded for a Host naming no deployment: %d bytes", len(a.AsString()))
	}
	exp.Reset()

	tok := e.session("prod.test", "alice@example.com", nil)
	state := "k=" + strings.Repeat("v", 250) + ",l=" + strings.Repeat("w", 250) + ",m=" + strings.Repeat("x", 250)
	rec := e.do(call{host: "prod.test", cookie: tok, header: http.Header{"Traceparent": {traceparent}, "Tracestate": {state}}})
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	srv := spanTree{t, exp.GetSpans()}.server()
	if got := srv.SpanContext.TraceID().String(); got != incomingTrace {
		t.Errorf("trace %s, want the incoming %s", got, incomingTrace)
	}
	if ts := srv.SpanContext.TraceState(); ts.Len() != 0 {
		t.Errorf("a %d-byte tracestate carried on", len(ts.String()))
	}
	if a := attrs(srv)[semconv.ServerAddressKey]; a.AsString() != "prod.test" {
		t.Errorf("server.address %q, want prod.test", a.AsString())
	}
}
