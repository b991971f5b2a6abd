package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/load"
)

// Load inserts the data set in one transaction, all or nothing (see package
// load): multi-row INSERTs, prepared once per table.
func (s *Store) Load(ctx context.Context, ds *domain.Dataset) error {
	return load.Load(ctx, dialect{s.db}, ds)
}

// dialect is SQLite's side of package load: times are unix microseconds,
// JSON and lists are JSON text (bound as text: SQLite reads a BLOB as JSONB).
type dialect struct{ db *sql.DB }

func (d dialect) Begin(ctx context.Context) (load.Tx, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	return loadTx{tx}, err
}

func (dialect) Time(t time.Time) any { return micros(t) }
func (dialect) JSON(b []byte) any    { return string(b) }

func (dialect) Strings(v []string) any {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v) // cannot fail for strings
	return string(b)
}

type loadTx struct{ tx *sql.Tx }

// maxRows bounds the rows of one INSERT, well within SQLite's limit of
// 32766 bound values per statement.
const maxRows = 256

func (t loadTx) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	var full *sql.Stmt
	for len(rows) > 0 {
		n := min(len(rows), maxRows)
		args := make([]any, 0, n*len(columns))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		var err error
		if n < maxRows {
			_, err = t.tx.ExecContext(ctx, insertSQL(table, columns, n), args...)
		} else {
			if full == nil {
				if full, err = t.tx.PrepareContext(ctx, insertSQL(table, columns, n)); err != nil {
					return err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// insertSQL is INSERT INTO table (columns) VALUES (?, …), … for n rows.
func insertSQL(table string, columns []string, n int) string {
	row := "(" + strings.Repeat("?, ", len(columns)-1) + "?)"
	return "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES " +
		strings.Repeat(row+", ", n-1) + row
}

func (t loadTx) Exec(ctx context.Context, query string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, query, args...)
	return err
}

func (t loadTx) QueryBool(ctx context.Context, query string, args ...any) (ok bool, err error) {
	err = t.tx.QueryRowContext(ctx, query, args...).Scan(&ok)
	return ok, err
}

func (t loadTx) Query(ctx context.Context, query string, args, dest []any, row func() error) error {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := row(); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (t loadTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t loadTx) Rollback(context.Context) error { return t.tx.Rollback() }

// Violation reads SQLite's message: "UNIQUE constraint failed: users.deployment_id,
// users.email", "CHECK constraint failed: public_metadata"; a foreign-key
// failure names nothing. A trigger's refusal is a link across tenants (0005),
// what PostgreSQL's composite foreign keys refuse.
func (loadTx) Violation(_ context.Context, err error) load.Violation {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return load.Violation{}
	}
	what := constraintText(se.Error())
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		first, _, _ := strings.Cut(what, ", ")
		_, column, _ := strings.Cut(first, ".")
		return load.Violation{Kind: load.Unique, Column: column, Name: what}
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_TRIGGER:
		return load.Violation{Kind: load.ForeignKey}
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return load.Violation{Kind: load.Check, Name: what}
	}
	return load.Violation{}
}

// constraintText is what follows "constraint failed: " in a SQLite message,
// without the trailing " (code)".
func constraintText(msg string) string {
	if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
		msg = msg[i+len("constraint failed: "):]
	}
	if i := strings.LastIndex(msg, " ("); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) &&
		(se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func isForeignKey(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
