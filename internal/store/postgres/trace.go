package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/wachtbench/memberships/internal/tracing"
)

// scope is the instrumentation scope of this store's spans.
const scope = "github.com/wachtbench/memberships/internal/store/postgres"

// tracedCounter is the pool's pgx.QueryTracer when tracing is on: it
// counts like counter and gives every statement sent within a request
// (BEGIN and COMMIT included) a span with its SQL text, its placeholders
// unfilled, and the server it went to, which tells the primary from the
// replica.
type tracedCounter struct {
	counter
	spans *tracing.Statements
}

func (t tracedCounter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	ctx = t.counter.TraceQueryStart(ctx, conn, data)
	ctx, span := t.spans.Start(ctx, data.SQL)
	if span != nil {
		cfg := conn.Config()
		span.SetAttributes(semconv.DBNamespace(cfg.Database), semconv.ServerAddress(cfg.Host), semconv.ServerPort(int(cfg.Port)))
	}
	return ctx
}

func (t tracedCounter) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	var code string
	var pgErr *pgconn.PgError
	if errors.As(data.Err, &pgErr) {
		code = pgErr.Code
	}
	tracing.End(tracing.StatementSpan(ctx), data.Err, code)
}
