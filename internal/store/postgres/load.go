package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/load"
)

// Load inserts the data set in one transaction, all or nothing (see package
// load): each table in one COPY.
func (s *Store) Load(ctx context.Context, ds *domain.Dataset) error {
	return load.Load(ctx, dialect{s}, ds)
}

// dialect is PostgreSQL's side of package load: timestamptz, json (kept as
// given, so compacted first), text[]. It is a load.Deriver: the loader
// writes the columns triggers derive (migration 0008).
type dialect struct{ s *Store }

var (
	_ load.Deriver = dialect{}
	_ load.Locker  = dialect{}
)

// LockDeployments blocks every other writer of deployments and their hosts
// (reads and foreign-key checks go on) until the load commits: another
// load's deployments, invisible to this one's cookie-domain check while
// uncommitted, cannot commit beside them. It is taken first, holding
// nothing else, so two loads cannot deadlock on it.
func (dialect) LockDeployments() string {
	return `LOCK TABLE deployments, deployment_hosts IN SHARE ROW EXCLUSIVE MODE`
}

// Begin starts a transaction that writes the derived columns itself: the
// link triggers that would compute them again skip it (0008).
func (d dialect) Begin(ctx context.Context) (load.Tx, error) {
	tx, err := d.s.primary.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('memberships.load', 'on', true)`); err != nil {
		_ = tx.Rollback(ctx)
		return nil, err
	}
	return loadTx{tx}, nil
}

func (dialect) Time(t time.Time) any   { return t }
func (dialect) JSON(b []byte) any      { return json.RawMessage(b) }
func (dialect) Strings(v []string) any { return nonNil(v) }

// liveRolesSQL reads live roles by id; organization roles carry no version.
var liveRolesSQL = map[string]string{
	"workspace_roles":    `SELECT id, version, permissions FROM workspace_roles WHERE id = ANY ($1) AND deleted_at IS NULL`,
	"organization_roles": `SELECT id, 0, permissions FROM organization_roles WHERE id = ANY ($1) AND deleted_at IS NULL`,
}

func (dialect) LiveRoles(ctx context.Context, tx load.Tx, table string, ids []int64) (map[int64]load.Role, error) {
	rows, err := tx.(loadTx).tx.Query(ctx, liveRolesSQL[table], ids)
	if err != nil {
		return nil, err
	}
	roles := make(map[int64]load.Role)
	var id, version int64
	var perms []string
	_, err = pgx.ForEachRow(rows, []any{&id, &version, &perms}, func() error {
		roles[id] = load.Role{Version: version, Permissions: slices.Clone(perms)}
		return nil
	})
	return roles, err
}

// Permissions spells the list as json_agg does: ["a", "b"], strings escaped
// as escape_json does (a control character as \uXXXX, any other byte as is).
func (dialect) Permissions(perms []string) any {
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range perms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('"')
		for j := 0; j < len(p); j++ {
			switch c := p[j]; c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				if c < ' ' {
					fmt.Fprintf(&b, `\u%04x`, c)
				} else {
					b.WriteByte(c)
				}
			}
		}
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

type loadTx struct{ tx pgx.Tx }

func (t loadTx) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
	return err
}

func (t loadTx) Exec(ctx context.Context, query string, args ...any) error {
	_, err := t.tx.Exec(ctx, query, args...)
	return err
}

func (t loadTx) QueryBool(ctx context.Context, query string, args ...any) (ok bool, err error) {
	err = t.tx.QueryRow(ctx, query, args...).Scan(&ok)
	return ok, err
}

func (t loadTx) Query(ctx context.Context, query string, args, dest []any, row func() error) error {
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	_, err = pgx.ForEachRow(rows, dest, row)
	return err
}

func (t loadTx) Commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t loadTx) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

// firstColumnSQL names the first column of a unique index (or of the
// constraint it backs); NULL for an expression.
const firstColumnSQL = `SELECT a.attname::text FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indexrelid = to_regclass(quote_ident($1))`

// Violation reads the SQLSTATE and the constraint PostgreSQL names; the
// first column of a unique key comes from the catalog.
func (t loadTx) Violation(ctx context.Context, err error) load.Violation {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return load.Violation{}
	}
	switch pe.Code {
	case uniqueViolation:
		var column *string
		_ = t.tx.QueryRow(ctx, firstColumnSQL, pe.ConstraintName).Scan(&column) // unknown: the generic message
		v := load.Violation{Kind: load.Unique, Name: pe.ConstraintName}
		if column != nil {
			v.Column = *column
		}
		return v
	case foreignKeyViolation:
		return load.Violation{Kind: load.ForeignKey}
	case checkViolation:
		return load.Violation{Kind: load.Check, Name: pe.ConstraintName}
	case notNullViolation:
		return load.Violation{Kind: load.Check, Name: pe.ColumnName}
	}
	return load.Violation{}
}
