package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/fragment"
)

// RawDB opens a pool of its own on the database a store was opened on (a
// SQLite path or sqlite://path, or a PostgreSQL URL, its search_path
// included), for tests that must reach states the domain cannot write. The
// stores keep their own pools to themselves; this one closes when t ends.
// Placeholders are the database's own: ? on SQLite, $1… on PostgreSQL.
func RawDB(t testing.TB, url string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", url
	if !isPostgres(url) {
		path := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(strings.TrimPrefix(url, "sqlite://"))
		driver, dsn = "sqlite", "file:"+path+"?mode=rw&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	}
	db, err := sql.Open(driver, dsn)
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		t.Fatalf("raw connection to %s: %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func isPostgres(url string) bool {
	lower := strings.ToLower(url)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// Mutable gives s, opened on url, the Execer and Mutator the suite needs,
// in plain SQL over RawDB.
func Mutable(t testing.TB, s domain.Store, url string) domain.Store {
	return mutable{Store: s, db: RawDB(t, url), url: url}
}

type mutable struct {
	domain.Store
	db  *sql.DB
	url string
}

// UseFragments passes on to the store (the freshness test swaps caches).
func (m mutable) UseFragments(c *fragment.Cache) {
	m.Store.(interface{ UseFragments(*fragment.Cache) }).UseFragments(c)
}

// Exec implements Execer.
func (m mutable) Exec(ctx context.Context, query string, args ...any) error {
	return ExecOne(ctx, m.db, m.url, query, args...)
}

// Count implements Querier.
func (m mutable) Count(ctx context.Context, query string) (n int, err error) {
	err = m.db.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

// ExecOne runs query on db (RawDB of url), failing unless it changes
// exactly one row. ? placeholders become $1, $2, … on PostgreSQL, and
// time.Time arguments are stored as each store keeps times (microseconds
// on SQLite).
func ExecOne(ctx context.Context, db *sql.DB, url, query string, args ...any) error {
	query, args = rawArgs(url, query, args)
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%d rows changed, want 1", n)
	}
	return nil
}

// rawArgs is query and args for RawDB of url, as ExecOne sends them.
func rawArgs(url, query string, args []any) (string, []any) {
	if isPostgres(url) {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
		}
		return query, args
	}
	for i, a := range args {
		if at, ok := a.(time.Time); ok {
			args[i] = at.UnixMicro()
		}
	}
	return query, args
}

func (m mutable) SignOut(ctx context.Context, id int64, at time.Time) error {
	return m.Exec(ctx, `UPDATE sign_ins SET signed_out_at = ? WHERE id = ?`, at, id)
}

func (m mutable) DeleteSession(ctx context.Context, id int64, at time.Time) error {
	return m.Exec(ctx, `UPDATE sessions SET deleted_at = ? WHERE id = ?`, at, id)
}

func (m mutable) ClearActiveSignIn(ctx context.Context, id int64) error {
	return m.Exec(ctx, `UPDATE sessions SET active_sign_in_id = NULL WHERE id = ?`, id)
}

func (m mutable) DeleteUser(ctx context.Context, id int64, at time.Time) error {
	return m.Exec(ctx, `UPDATE users SET deleted_at = ? WHERE id = ?`, at, id)
}
