package storetest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/internal/domain"
)

// StatementSpans checks the spans a store gives its SQL statements
// (store.Options.TracerProvider): none outside a traced request, one per
// statement within it, each a client span child of the request's with
// db.system.name system and the statement's text, never a bound value; a
// failing statement is marked with its error's kind. open returns a fresh,
// empty store tracing to tp.
func StatementSpans(t *testing.T, open func(t *testing.T, tp trace.TracerProvider) domain.Store, system string) {
	ctx := t.Context()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	s := open(t, tp)
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeploymentByHost(ctx, "app.example.test"); err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("%d spans of statements outside a traced request (a load, a lookup); want none", n)
	}

	ctx, request := tp.Tracer("storetest").Start(ctx, "request")
	if _, err := s.DeploymentByHost(ctx, "app.example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Memberships(ctx, domain.MembershipQuery{DeploymentID: deployment1, UserID: alice}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	session := domain.NewSession{DeploymentID: deployment1, UserID: alice, SessionID: ID(9001), SignInID: ID(9002), RotatingTokenID: ID(9003),
		CreatedAt: now, SignInExpiresAt: now.Add(time.Hour), TokenValidUntil: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, session); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, session); !errors.Is(err, domain.ErrConflict) { // the same ids again: refused, rolled back
		t.Fatalf("a second CreateSession with the same ids: %v, want a conflict", err)
	}
	request.End()

	parent := request.SpanContext()
	values := []string{"app.example.test", strconv.FormatInt(alice, 10), strconv.FormatInt(deployment1, 10), strconv.FormatInt(ID(9001), 10), "PRIVATE KEY"}
	names := map[string]int{}
	failed := 0
	for _, sp := range exp.GetSpans() {
		if sp.Name == "request" {
			continue
		}
		names[sp.Name]++
		attrs := map[attribute.Key]attribute.Value{}
		for _, kv := range sp.Attributes {
			attrs[kv.Key] = kv.Value
			for _, v := range values {
				if strings.Contains(kv.Value.Emit(), v) {
					t.Errorf("span %s: %s holds the value %q", sp.Name, kv.Key, v)
				}
			}
		}
		if sp.Parent.SpanID() != parent.SpanID() || sp.SpanContext.TraceID() != parent.TraceID() {
			t.Errorf("span %s is not a child of the request's", sp.Name)
		}
		if sp.SpanKind != trace.SpanKindClient {
			t.Errorf("span %s: kind %v, want client", sp.Name, sp.SpanKind)
		}
		if got := attrs["db.system.name"].AsString(); got != system {
			t.Errorf("span %s: db.system.name %q, want %q", sp.Name, got, system)
		}
		if attrs["db.query.text"].AsString() == "" {
			t.Errorf("span %s: no db.query.text", sp.Name)
		}
		if sp.Status.Code == codes.Error {
			failed++
			if attrs["error.type"].AsString() == "" || strings.Contains(sp.Status.Description, " ") {
				t.Errorf("span %s fails without a kind of error: %+v, status %q", sp.Name, attrs, sp.Status.Description)
			}
		}
		for _, ev := range sp.Events {
			t.Errorf("span %s has an event %q (an error message may quote a row)", sp.Name, ev.Name)
		}
	}
	t.Logf("statement spans: %v", names)
	if names["SELECT"] < 2 || names["BEGIN"] != 2 || names["COMMIT"] != 1 || names["ROLLBACK"] != 1 || names["INSERT"] < 2 {
		t.Errorf("statement spans by name %v; want SELECTs, 2 BEGIN, INSERTs, 1 COMMIT and 1 ROLLBACK", names)
	}
	if failed != 1 {
		t.Errorf("%d failed statement spans, want 1 (the conflicting INSERT)", failed)
	}
}
