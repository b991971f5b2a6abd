package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestTracesURL(t *testing.T) {
	for _, tc := range []struct {
		name, flag string
		env        map[string]string
		want, from string
		bad        bool
	}{
		{name: "nothing set: off"},
		{name: "flag is a base", flag: "http://collector:4318", want: "http://collector:4318/v1/traces"},
		{name: "flag base with a path", flag: "https://otel.example/ingest/", want: "https://otel.example/ingest/v1/traces"},
		{name: "general variable is a base", env: map[string]string{EnvEndpoint: "http://c:4318"}, want: "http://c:4318/v1/traces"},
		{name: "traces variable as it is", env: map[string]string{EnvTracesEndpoint: "http://c:4318/custom", EnvEndpoint: "http://other:4318"}, want: "http://c:4318/custom"},
		{name: "flag wins", flag: "http://flag:4318", env: map[string]string{EnvTracesEndpoint: "http://c:4318/v1/traces"}, want: "http://flag:4318/v1/traces"},
		{name: "no scheme", flag: "collector:4318", bad: true},
		{name: "bad variable named", env: map[string]string{EnvEndpoint: "ftp://c"}, bad: true, from: EnvEndpoint},
		{name: "credentials refused", flag: "http://user:secret@collector:4318", bad: true},
		{name: "a query refused", env: map[string]string{EnvTracesEndpoint: "http://c:4318/v1/traces?api_key=k"}, bad: true, from: EnvTracesEndpoint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Endpoint: tc.flag, Getenv: func(k string) string { return tc.env[k] }}
			got, from, err := cfg.TracesURL()
			if tc.bad {
				if err == nil || from != tc.from {
					t.Fatalf("TracesURL = %q, %q, %v; want an error from %q", got, from, err, tc.from)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("TracesURL = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// Without an endpoint nothing is set up: no provider, and a nil one is
// safe to shut down and hands the server nil (tracing off).
func TestSetupOff(t *testing.T) {
	p, err := Setup(t.Context(), Config{Getenv: func(string) string { return "" }})
	if err != nil || p != nil {
		t.Fatalf("Setup without an endpoint = %v, %v; want nil, nil", p, err)
	}
	if p.Traces() != nil || p.Shutdown(0) != nil {
		t.Error("a nil provider is not off")
	}
}

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(LogHandler(slog.NewJSONHandler(&buf, nil)))).With("app", "m")
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	log.InfoContext(ctx, "traced")
	log.Info("untraced")
	span.End()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var traced, untraced map[string]any
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &traced) != nil || json.Unmarshal([]byte(lines[1]), &untraced) != nil {
		t.Fatalf("log: %s", buf.String())
	}
	sc := span.SpanContext()
	if traced["trace_id"] != sc.TraceID().String() || traced["span_id"] != sc.SpanID().String() || traced["app"] != "m" {
		t.Errorf("traced line: %s", lines[0])
	}
	if strings.Count(lines[0], "trace_id") != 1 {
		t.Errorf("wrapped twice, ids added twice: %s", lines[0])
	}
	if _, ok := untraced["trace_id"]; ok {
		t.Errorf("untraced line: %s", lines[1])
	}
}

func TestStatementsNeedARecordingParent(t *testing.T) {
	if NewStatements(nil, "x", SQLite) != nil {
		t.Error("statements traced without a provider")
	}
	var off *Statements
	if ctx, span := off.Start(context.Background(), "SELECT 1"); span != nil || StatementSpan(ctx) != nil {
		t.Error("a nil Statements started a span")
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	st := NewStatements(tp, "x", SQLite)
	if _, span := st.Start(context.Background(), "SELECT 1"); span != nil {
		t.Error("a statement without a parent started a trace of its own")
	}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	sctx, span := st.Start(ctx, "  select id FROM t WHERE x = ?")
	if span == nil || StatementSpan(sctx) != span || StatementSpan(ctx) != nil {
		t.Fatal("no statement span within a request, or the request's taken for it")
	}
	End(span, nil, "")
	End(StatementSpan(ctx), nil, "") // none: must not end the request's span
	if !parent.IsRecording() {
		t.Fatal("End ended the parent")
	}
	parent.End()
	spans := exp.GetSpans()
	if len(spans) != 2 || spans[0].Name != "SELECT" {
		t.Fatalf("spans: %v", spans)
	}
}

func TestOperation(t *testing.T) {
	for q, want := range map[string]string{"SELECT 1": "SELECT", "\n\t(select": "SELECT", "begin": "BEGIN", "WITH x AS": "WITH", "-- c\nSELECT": "", "": ""} {
		if got := operation(q); got != want {
			t.Errorf("operation(%q) = %q, want %q", q, got, want)
		}
	}
}
