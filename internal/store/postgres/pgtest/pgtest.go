// Package pgtest gives tests a fresh, empty PostgreSQL schema on the server
// named by MEMBERSHIPS_TEST_POSTGRES, and skips them, saying so, when it is
// unset — except under CI=true, where a missing server fails them: a broken
// scripts/with-postgres.sh must not turn CI green by skipping.
//
// Tests only: it imports no other package of the module.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	neturl "net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvVar holds the URL of a PostgreSQL server the tests may create schemas on.
const EnvVar = "MEMBERSHIPS_TEST_POSTGRES"

// Available reports whether PostgreSQL tests can run.
func Available() bool { return os.Getenv(EnvVar) != "" }

// Skip skips t unless a PostgreSQL server is configured; under CI=true it
// fails t instead.
func Skip(t testing.TB) {
	t.Helper()
	Require(t, EnvVar, "run `make test-postgres`, or set it to a server URL")
}

// Require skips t, or fails it under CI=true, unless the environment
// variable env is set; how says how to set it.
func Require(t testing.TB, env, how string) {
	t.Helper()
	if os.Getenv(env) != "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set, and CI=true forbids skipping (%s)", env, how)
	}
	t.Skipf("skipped: %s is not set (%s)", env, how)
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
	u, err := neturl.Parse(base)
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

// The hot standby of `scripts/with-postgres.sh --replica`: its URL, and a
// script that stops and starts it.
const (
	StandbyEnvVar    = "MEMBERSHIPS_TEST_POSTGRES_STANDBY"
	StandbyCtlEnvVar = "MEMBERSHIPS_TEST_POSTGRES_STANDBY_CTL"
)

// StandbyURL returns url (from URL) pointed at the standby: the same
// database and schema, as replicated. It skips t (fails it under CI=true)
// without a standby.
func StandbyURL(t testing.TB, url string) string {
	t.Helper()
	for _, env := range []string{StandbyEnvVar, StandbyCtlEnvVar} {
		Require(t, env, "run `make test-topology`, or a command under `scripts/with-postgres.sh --replica`")
	}
	standby, err1 := neturl.Parse(os.Getenv(StandbyEnvVar))
	u, err2 := neturl.Parse(url)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	u.Host = standby.Host
	return u.String()
}

// Standby stops ("stop") or starts ("start") the standby.
func Standby(t testing.TB, action string) {
	t.Helper()
	if out, err := exec.Command(os.Getenv(StandbyCtlEnvVar), action).CombinedOutput(); err != nil {
		t.Fatalf("standby %s: %v\n%s", action, err, out)
	}
}

// CaughtUp waits until the standby has replayed everything written on the
// primary so far.
func CaughtUp(t testing.TB, primary, standby *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	var lsn string
	if err := primary.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var done bool
		if err := standby.QueryRow(ctx, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done {
			return
		}
	}
	t.Fatalf("the standby did not replay up to %s within 30s", lsn)
}
