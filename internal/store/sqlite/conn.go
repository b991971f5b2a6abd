package sqlite

import (
	"context"
	"database/sql/driver"
	"os"
	"sync/atomic"
)

// The types below wrap the driver's connections so that every statement SQLite
// runs is counted where it is sent, whichever path database/sql takes: direct
// Exec/Query on a connection, executions of prepared statements, and the
// BEGIN, COMMIT and ROLLBACK of transactions. Preparing a statement is not
// counted: it runs nothing. Where a statement is counted it also gets its
// span when tracing is on (trace.go). A connection also remembers the file it
// opened, so that a restore is noticed (restore.go).

type countingConnector struct {
	driver.Connector
	n     *atomic.Int64
	file  string // the database file, whose identity connections check
	seen  *fileSeen
	spans *spans
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var ident os.FileInfo
	if c.file != "" {
		var err error
		if ident, err = os.Stat(c.file); err != nil {
			return nil, err
		}
	}
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, n: c.n, file: c.file, ident: ident, seen: c.seen, spans: c.spans}, nil
}

// countingConn forwards every optional interface the modernc connection
// implements; without them database/sql would fall back to context-free paths.
type countingConn struct {
	driver.Conn
	n     *atomic.Int64
	file  string
	ident os.FileInfo
	seen  *fileSeen
	spans *spans
	// each's (rows.go): its statements, and buffers for their arguments
	// and values.
	stmts map[string]driver.Stmt
	args  []driver.NamedValue
	vals  driverRow
}

var (
	_ driver.ConnBeginTx        = (*countingConn)(nil)
	_ driver.ConnPrepareContext = (*countingConn)(nil)
	_ driver.ExecerContext      = (*countingConn)(nil)
	_ driver.QueryerContext     = (*countingConn)(nil)
	_ driver.Pinger             = (*countingConn)(nil)
	_ driver.SessionResetter    = (*countingConn)(nil)
	_ driver.Validator          = (*countingConn)(nil)
)

// Unwrap lets the driver's helpers (sqlite.Limit) reach the real connection.
func (c *countingConn) Unwrap() driver.Conn { return c.Conn }

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: s, n: c.n, query: query, spans: c.spans}, nil
}

func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.n.Add(1)
	sctx, span := c.spans.start(ctx, "BEGIN")
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(sctx, opts)
	end(span, err)
	if err != nil {
		return nil, err
	}
	return countingTx{Tx: tx, n: c.n, ctx: ctx, spans: c.spans}, nil
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	ctx, span := c.spans.start(ctx, query)
	res, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	end(span, err)
	return res, err
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	ctx, span := c.spans.start(ctx, query)
	rows, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	return tracedRows(rows, span, err)
}

func (c *countingConn) Ping(ctx context.Context) error {
	return c.Conn.(driver.Pinger).Ping(ctx)
}

// ResetSession runs before a pooled connection is reused: one whose file
// was replaced is dropped (restore.go).
func (c *countingConn) ResetSession(ctx context.Context) error {
	if c.replaced() {
		return driver.ErrBadConn
	}
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *countingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

// countingTx keeps the context of its BEGIN: database/sql gives COMMIT and
// ROLLBACK none, and their spans belong to the same request.
type countingTx struct {
	driver.Tx
	n     *atomic.Int64
	ctx   context.Context
	spans *spans
}

func (t countingTx) Commit() error {
	t.n.Add(1)
	_, span := t.spans.start(t.ctx, "COMMIT")
	err := t.Tx.Commit()
	end(span, err)
	return err
}

func (t countingTx) Rollback() error {
	t.n.Add(1)
	_, span := t.spans.start(t.ctx, "ROLLBACK")
	err := t.Tx.Rollback()
	end(span, err)
	return err
}

type countingStmt struct {
	driver.Stmt
	n     *atomic.Int64
	query string
	spans *spans
}

var (
	_ driver.StmtExecContext  = (*countingStmt)(nil)
	_ driver.StmtQueryContext = (*countingStmt)(nil)
)

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	ctx, span := s.spans.start(ctx, s.query)
	res, err := s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	end(span, err)
	return res, err
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	ctx, span := s.spans.start(ctx, s.query)
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	return tracedRows(rows, span, err)
}

// Exec and Query are the context-free paths; database/sql never takes them
// while the context forms exist, but they must not bypass the counter.
func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.n.Add(1)
	return s.Stmt.Exec(args) //nolint:staticcheck // required by driver.Stmt
}

func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.n.Add(1)
	return s.Stmt.Query(args) //nolint:staticcheck // required by driver.Stmt
}
