// Package pgtest gives tests a fresh, empty PostgreSQL schema on the server
// named by MEMBERSHIPS_TEST_POSTGRES, and skips them, saying so, when it is
// unset.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvVar holds the URL of a PostgreSQL server the tests may create schemas on.
const EnvVar = "MEMBERSHIPS_TEST_POSTGRES"

// Available reports whether PostgreSQL tests can run.
func Available() bool { return os.Getenv(EnvVar) != "" }

// Skip skips t unless a PostgreSQL server is configured.
func Skip(t testing.TB) {
	t.Helper()
	if !Available() {
		t.Skipf("PostgreSQL tests skipped: %s is not set (run `make test-postgres`, or set it to a server URL)", EnvVar)
	}
}

// URL creates a schema of its own for t and returns the server's URL with
// search_path set to it, so tests never see each other's tables. The schema
// is dropped when t ends (after the cleanups registered later, such as
// closing the store).
func URL(t testing.TB) string {
	t.Helper()
	Skip(t)
	base := os.Getenv(EnvVar)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin := func(sql string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("%s: %v", EnvVar, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	admin("CREATE SCHEMA " + schema)
	t.Cleanup(func() { admin("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

// URLOf returns the URL a pool was opened with (its schema included), for a
// second store on the same schema.
func URLOf(p *pgxpool.Pool) string { return p.Config().ConnString() }
