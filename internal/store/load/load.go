// Package load writes a domain.Dataset into a store, the same way for every
// store: one walker turns the records into rows, table by table in
// dependency order (tables.go), and a store's Dialect only says how to send
// rows and read its errors. It imports domain and auth (for the keys it
// generates), never a store.
//
// A load is one transaction, all or nothing. Each table goes in one bulk
// call; when one fails, the walker bisects the table's rows under savepoints
// to find the first failing record and explains the error in its own terms:
// the entry's path and field, as the data file names them. Once the
// deployments and hosts are written, it checks that no cookie domain covers
// another deployment's host (cookies.go).
package load

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// Dialect is what a store tells the walker.
type Dialect interface {
	// Begin starts the load's transaction.
	Begin(ctx context.Context) (Tx, error)
	// Time, JSON and Strings convert values to the store's column types: a
	// timestamp, a valid compact JSON object, a list of strings.
	Time(time.Time) any
	JSON([]byte) any
	Strings([]string) any
}

// Deriver is a Dialect whose schema keeps columns derived from other rows
// (PostgreSQL): a link's scope, a workspace membership's role references, an
// organization membership's permissions. The walker writes them, so that its
// triggers, which keep them for every other writer, find them right and
// leave them alone.
type Deriver interface {
	Dialect
	// LiveRoles reads, within tx, the roles among ids of table
	// (workspace_roles or organization_roles) that are not deleted.
	LiveRoles(ctx context.Context, tx Tx, table string, ids []int64) (map[int64]Role, error)
	// Permissions spells a sorted list of distinct permissions as the
	// triggers do; nil for none.
	Permissions([]string) any
}

// Locker is a Dialect whose concurrent loads would not see each other's
// deployments before they commit (PostgreSQL): LockDeployments is the
// statement a load with deployments runs first, so that loads adding
// deployments run one after another and each checks its cookie domains
// against the others' (checkCookieDomains). A SQLite write transaction
// already excludes every other writer.
type Locker interface {
	Dialect
	LockDeployments() string
}

// Role is what a membership's derived columns show of a live role.
type Role struct {
	Version     int64
	Permissions []string
}

// Tx is the load's transaction. SQL the walker writes itself (SAVEPOINT,
// UPDATE, SELECT EXISTS) reads the same in every dialect, with $N placeholders.
type Tx interface {
	// Insert writes rows of values for columns, in bulk as the store does best.
	Insert(ctx context.Context, table string, columns []string, rows [][]any) error
	Exec(ctx context.Context, query string, args ...any) error
	QueryBool(ctx context.Context, query string, args ...any) (bool, error)
	// Query scans each row of a query into dest and calls row after each.
	Query(ctx context.Context, query string, args []any, dest []any, row func() error) error
	// Violation says which constraint, if any, err broke.
	Violation(ctx context.Context, err error) Violation
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Kind is the kind of constraint a failed write broke.
type Kind int

const (
	Other Kind = iota
	Unique
	ForeignKey
	Check // CHECK or NOT NULL
)

// Violation is a broken constraint, as a store reports it.
type Violation struct {
	Kind Kind
	// Column is the first column of a unique key: in this schema it tells
	// the unique keys of a table apart ("id", "deployment_id" for a user's
	// e-mail, "workspace_id" for a live membership…).
	Column string
	// Name is the constraint (or column) for messages.
	Name string
}

// Load writes ds in one transaction; the first failing record aborts
// everything and is named by its Path. Deployments without a key get one
// here (see WithKeys).
func Load(ctx context.Context, d Dialect, ds *domain.Dataset) error {
	ds, err := WithKeys(ds)
	if err != nil {
		return err
	}
	batches, err := plan(d, ds)
	if err != nil {
		return err
	}
	tx, err := d.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) // after Commit it does nothing
	if l, ok := d.(Locker); ok && len(ds.Deployments) > 0 {
		if err := tx.Exec(ctx, l.LockDeployments()); err != nil {
			return fmt.Errorf("locking the deployments: %w", err)
		}
	}
	for _, b := range batches {
		if err := b.write(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// record describes the entry a row comes from, for error messages.
type record struct {
	path string
	// unique maps the first column of a unique key to what a conflict on it
	// means; a leading "." continues the path with a field.
	unique map[string]string
	refs   []ref
	// mismatch explains a foreign-key failure whose references all exist:
	// a composite key whose parts disagree; a leading "." continues the path.
	mismatch string
}

// ref is a foreign key of a record, checked one by one to explain a
// foreign-key failure (SQLite does not say which key failed).
type ref struct {
	field, table string
	id           int64
}

// batch is the rows of one table, or of one UPDATE run row by row.
type batch struct {
	table   string
	columns []string
	update  string // when set, run for each row instead of inserting
	rows    [][]any
	recs    []func() record
	// before completes the rows once the batches before are written.
	before func(ctx context.Context, tx Tx) error
	// after checks the rows once written, with the rows of other loads.
	after func(ctx context.Context, tx Tx) error
}

func (b *batch) send(ctx context.Context, tx Tx, rows [][]any) error {
	if b.update == "" {
		return tx.Insert(ctx, b.table, b.columns, rows)
	}
	for _, r := range rows {
		if err := tx.Exec(ctx, b.update, r...); err != nil {
			return err
		}
	}
	return nil
}

func (b *batch) write(ctx context.Context, tx Tx) error {
	if len(b.rows) == 0 {
		return nil
	}
	if b.before != nil {
		if err := b.before(ctx, tx); err != nil {
			return fmt.Errorf("%s: %w", b.table, err)
		}
	}
	if err := tx.Exec(ctx, "SAVEPOINT batch"); err != nil {
		return err
	}
	err := b.send(ctx, tx, b.rows)
	if err == nil {
		if err := tx.Exec(ctx, "RELEASE SAVEPOINT batch"); err != nil || b.after == nil {
			return err
		}
		return b.after(ctx, tx)
	}
	if rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT batch"); rerr != nil || tx.Violation(ctx, err).Kind == Other {
		return fmt.Errorf("%s: %w", b.table, err) // a timeout, a lost connection: no record to blame
	}
	i, cause := b.culprit(ctx, tx)
	if i < 0 {
		return fmt.Errorf("%s: %w", b.table, err) // did not fail again: report the first error
	}
	return explain(ctx, tx, b.recs[i](), cause)
}

// culprit finds the first row whose write fails after the rows before it,
// by bisection: a bulk call costs about as much for one row as for many.
// It leaves the transaction usable, holding the rows before the culprit, so
// the explanation may query it. It returns -1 when no row fails.
func (b *batch) culprit(ctx context.Context, tx Tx) (int, error) {
	written := func(rows [][]any) (bool, error) { // the error is the savepoint's
		if err := tx.Exec(ctx, "SAVEPOINT culprit"); err != nil {
			return false, err
		}
		if b.send(ctx, tx, rows) != nil {
			return false, tx.Exec(ctx, "ROLLBACK TO SAVEPOINT culprit")
		}
		return true, tx.Exec(ctx, "RELEASE SAVEPOINT culprit")
	}
	lo, hi := 0, len(b.rows) // rows[:lo] are written; the culprit is in rows[lo:hi]
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := written(b.rows[lo:mid])
		if err != nil {
			return -1, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if err := tx.Exec(ctx, "SAVEPOINT culprit"); err != nil {
		return -1, err
	}
	failed := b.send(ctx, tx, b.rows[lo:lo+1])
	if err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT culprit"); err != nil || failed == nil {
		return -1, err
	}
	return lo, failed
}

// explain turns a store's error into one naming the record's path and field.
func explain(ctx context.Context, tx Tx, r record, err error) error {
	v := tx.Violation(ctx, err)
	switch v.Kind {
	case Unique:
		if what, ok := r.unique[v.Column]; ok {
			return fmt.Errorf("%s: %w", joinPath(r.path, what), domain.ErrConflict)
		}
		return fmt.Errorf("%s: duplicate (%s): %w", r.path, v.Name, domain.ErrConflict)
	case ForeignKey:
		for _, f := range r.refs {
			ok, qerr := tx.QueryBool(ctx, "SELECT EXISTS (SELECT 1 FROM "+f.table+" WHERE id = $1)", f.id)
			if qerr != nil {
				return fmt.Errorf("%s: %w (checking %s: %v)", r.path, err, f.field, qerr)
			}
			if !ok {
				return fmt.Errorf("%s.%s: %s %d does not exist", r.path, f.field, strings.TrimSuffix(f.table, "s"), f.id)
			}
		}
		if r.mismatch != "" {
			return errors.New(joinPath(r.path, r.mismatch))
		}
	case Check:
		return fmt.Errorf("%s: invalid %s", r.path, v.Name)
	}
	return fmt.Errorf("%s: %w", r.path, err)
}

// joinPath appends a field to a path unless the message starts with one.
func joinPath(path, what string) string {
	if strings.HasPrefix(what, ".") {
		return path + what
	}
	return path + ": " + what
}
