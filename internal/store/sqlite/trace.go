package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"strconv"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
	"modernc.org/sqlite"

	"github.com/wachtbench/memberships/internal/tracing"
)

// scope is the instrumentation scope of this store's spans.
const scope = "github.com/wachtbench/memberships/internal/store/sqlite"

// UseTracing gives every statement run within a traced request (BEGIN,
// COMMIT and ROLLBACK included) a span with its SQL text, its placeholders
// unfilled; nil turns that off. Call it before the store is used.
func (s *Store) UseTracing(tp trace.TracerProvider) {
	s.spans.p.Store(tracing.NewStatements(tp, scope, tracing.SQLite))
}

// spans is what UseTracing chose, shared by the pool's connections (some
// of which Open already made): nil when tracing is off, one atomic load a
// statement.
type spans struct {
	p atomic.Pointer[tracing.Statements]
}

func (s *spans) start(ctx context.Context, query string) (context.Context, trace.Span) {
	return s.p.Load().Start(ctx, query)
}

// end ends a statement's span (nil: none), naming a failure by SQLite's
// result code.
func end(span trace.Span, err error) {
	if span == nil {
		return
	}
	code := ""
	var e *sqlite.Error
	if errors.As(err, &e) {
		if code = sqlite.ErrorCodeString[e.Code()]; code == "" {
			code = strconv.Itoa(e.Code())
		}
	}
	tracing.End(span, err, code)
}

// tracedRows ends a query's span when its rows are closed: SQLite does
// most of a query's work while its rows are read, not when it starts.
func tracedRows(rows driver.Rows, span trace.Span, err error) (driver.Rows, error) {
	if span == nil {
		return rows, err
	}
	if err != nil {
		end(span, err)
		return nil, err
	}
	return &spanRows{Rows: rows, span: span}, nil
}

type spanRows struct {
	driver.Rows
	span trace.Span
	err  error // the first error reading the rows
}

func (r *spanRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return err
}

func (r *spanRows) Close() error {
	err := r.Rows.Close()
	end(r.span, errors.Join(r.err, err))
	return err
}
