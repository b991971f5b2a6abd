package tracing

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Database systems of Statements.
var (
	PostgreSQL = semconv.DBSystemNamePostgreSQL
	SQLite     = semconv.DBSystemNameSQLite
)

// Statements starts the spans of one store's SQL statements, one span per
// statement sent. A nil *Statements (tracing off) starts none.
type Statements struct {
	tracer trace.Tracer
	system attribute.KeyValue
}

// NewStatements traces the statements of system under the instrumentation
// scope (the store's package path); nil when tp is nil.
func NewStatements(tp trace.TracerProvider, scope string, system attribute.KeyValue) *Statements {
	if tp == nil {
		return nil
	}
	return &Statements{tracer: tp.Tracer(scope), system: system}
}

type statementKey struct{}

// Start begins the span of the statement query as a child of ctx's span.
// It starts none when s is nil or ctx has no recording span: statements
// outside a request (replica probes, id leases, migrations) would
// otherwise each be a trace of their own. The text is recorded as sent,
// with its placeholders: the values bound to them never are (the stores'
// statements take every value as a parameter).
func (s *Statements) Start(ctx context.Context, query string) (context.Context, trace.Span) {
	if s == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, nil
	}
	op := operation(query)
	name := op
	if name == "" {
		name = s.system.Value.AsString()
	}
	ctx, span := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.system, semconv.DBQueryText(query)))
	if op != "" {
		span.SetAttributes(semconv.DBOperationName(op))
	}
	return context.WithValue(ctx, statementKey{}, span), span
}

// StatementSpan is the span Start put on ctx, nil when it started none;
// for drivers that end a statement in a callback given only the context.
func StatementSpan(ctx context.Context) trace.Span {
	span, _ := ctx.Value(statementKey{}).(trace.Span)
	return span
}

// End ends a statement's span (nil: none was started) with err's outcome.
// An error is recorded by its kind (code, the SQLSTATE where there is one)
// and never by its message, which may quote the values of a row.
func End(span trace.Span, err error, code string) {
	if span == nil {
		return
	}
	if err != nil {
		if code == "" {
			code = "_OTHER"
		} else {
			span.SetAttributes(semconv.DBResponseStatusCode(code))
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(code))
		span.SetStatus(codes.Error, code)
	}
	span.End()
}

// operation is the statement's first keyword (SELECT, INSERT, BEGIN, …),
// its db.operation.name; "" when it does not start with a word.
func operation(query string) string {
	query = strings.TrimLeft(query, " \t\r\n(")
	end := strings.IndexFunc(query, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	if end < 0 {
		end = len(query)
	}
	return strings.ToUpper(query[:end])
}
