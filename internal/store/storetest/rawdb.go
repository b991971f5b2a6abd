package storetest

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"
)

// RawDB opens a pool of its own on the database a store was opened on (a
// SQLite path or sqlite://path, or a PostgreSQL URL, its search_path
// included), for tests that must reach states the domain cannot write. The
// stores keep their own pools to themselves; this one closes when t ends.
// Placeholders are the database's own: ? on SQLite, $1… on PostgreSQL.
func RawDB(t testing.TB, url string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", url
	if lower := strings.ToLower(url); !strings.HasPrefix(lower, "postgres://") && !strings.HasPrefix(lower, "postgresql://") {
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
