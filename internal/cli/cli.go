// Package cli is the memberships command line: one testable Run over cobra
// commands, with every flag falling back to a MEMBERSHIPS_* environment
// variable.
//
// It imports the server, store, client, loader, seed and the packages they
// need; only cmd/memberships imports it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/keyring"
	"github.com/wachtbench/memberships/internal/store"
	"github.com/wachtbench/memberships/internal/store/fragment"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks a bad flag or setting: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// env reads the environment; injected so tests need no real one.
type env func(string) string

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:   "memberships",
		Short: "The Wacht workspace-memberships API: serve it, feed it, call it",
		Long: `memberships serves GET /me/workspace-memberships over SQLite, enforcing the
contract in openapi.yaml, on SQLite (the default) or PostgreSQL, and carries the
tools around it.

Quick start:
  memberships serve                      # demo data into a new memberships.db
  memberships token --user demo@example.com
  memberships list --url http://localhost:8080 --session TOKEN

Every flag can also be set through the environment variable shown in its help.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetContext(ctx)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	e := env(getenv)
	root.AddCommand(serveCmd(e), migrateCmd(e), loadCmd(e), tokenCmd(e), listCmd(e), seedCmd(e), versionCmd())

	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "memberships:", err)
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "accepts ") {
		return exitUsage
	}
	return exitError
}

// stringFlag declares a flag whose default comes from the environment.
func (e env) stringFlag(fs *pflag.FlagSet, p *string, name, envName, def, usage string) {
	if v := e(envName); v != "" {
		def = v
	}
	fs.StringVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName))
}

// keyEncryptionKeyEnv names the variable holding the key that seals private
// signing keys at rest. Only the environment carries it: flags show in ps.
const keyEncryptionKeyEnv = "MEMBERSHIPS_KEY_ENCRYPTION_KEY"

// defaultDB is the SQLite file used when no database is named: the only one
// serve fills with demo data unasked.
const defaultDB = "memberships.db"

// defaultMMap is --db-mmap's default, store.DefaultMMapSize as a size.
const defaultMMap = "1GiB"

// dbConfig is the database settings of every command that opens the store.
type dbConfig struct {
	url, readURL, maxConns, connectTimeout, statementTimeout, readCheck, mmap string
	readMaxLag                                                                string
	keyEncryptionKey                                                          string       // from the environment only
	log                                                                       *slog.Logger // serve's, for replica failover
	fragments                                                                 *fragment.Cache
}

// dbFlags declares the database flags.
func (e env) dbFlags(fs *pflag.FlagSet, c *dbConfig) {
	c.keyEncryptionKey = e(keyEncryptionKeyEnv)
	e.stringFlag(fs, &c.url, "db", "MEMBERSHIPS_DB", defaultDB,
		"database: a SQLite file path or sqlite://path, or a postgres:// (postgresql://) URL")
	e.stringFlag(fs, &c.readURL, "db-read", "MEMBERSHIPS_DB_READ", "",
		"PostgreSQL read replica URL for the request path's reads (sessions always use the primary)")
	e.stringFlag(fs, &c.readCheck, "db-read-check", "MEMBERSHIPS_DB_READ_CHECK", store.DefaultReadCheckInterval.String(),
		"how often the read replica is probed (each probe may take as long); while it does not answer, reads go to the primary")
	e.stringFlag(fs, &c.readMaxLag, "db-read-max-lag", "MEMBERSHIPS_DB_READ_MAX_LAG", store.DefaultMaxReplicaLag.String(),
		"the most the read replica's reads may be stale: past it, or while its replay lag cannot be measured, reads go to the primary (0: no bound)")
	e.stringFlag(fs, &c.maxConns, "db-max-conns", "MEMBERSHIPS_DB_MAX_CONNS", strconv.Itoa(int(store.DefaultMaxConns)),
		"PostgreSQL: connections per pool (primary, replica); the default is the cores, at least 4")
	e.stringFlag(fs, &c.connectTimeout, "db-connect-timeout", "MEMBERSHIPS_DB_CONNECT_TIMEOUT", store.DefaultConnectTimeout.String(),
		"PostgreSQL: how long opening a connection may take")
	e.stringFlag(fs, &c.statementTimeout, "db-statement-timeout", "MEMBERSHIPS_DB_STATEMENT_TIMEOUT", store.DefaultStatementTimeout.String(),
		"PostgreSQL: statement_timeout of every statement")
	e.stringFlag(fs, &c.mmap, "db-mmap", "MEMBERSHIPS_DB_MMAP", defaultMMap,
		"SQLite: the most of the file each connection reads through a memory map, up to 2047MiB; faster reads, but another program truncating or overwriting the file in place crashes the process (SIGBUS); 0: no map")
}

// open checks the settings (a bad one is a usage error) and opens the store.
func (c dbConfig) open(ctx context.Context) (domain.Store, error) {
	n, err := strconv.ParseInt(c.maxConns, 10, 32)
	if err != nil || n < 1 {
		return nil, usagef("--db-max-conns: %q is not a positive number", c.maxConns)
	}
	opts := store.Options{ReadURL: c.readURL, MaxConns: int32(n), Logger: c.log, Fragments: c.fragments}
	if opts.MMapSize, err = mmapSize(c.mmap); err != nil {
		return nil, err
	}
	for _, d := range []struct {
		flag, value string
		p           *time.Duration
	}{
		{"--db-connect-timeout", c.connectTimeout, &opts.ConnectTimeout},
		{"--db-statement-timeout", c.statementTimeout, &opts.StatementTimeout},
		{"--db-read-check", c.readCheck, &opts.ReadCheckInterval},
	} {
		if *d.p, err = time.ParseDuration(d.value); err != nil || *d.p <= 0 {
			return nil, usagef("%s: %q is not a positive duration", d.flag, d.value)
		}
	}
	if opts.MaxReplicaLag, err = time.ParseDuration(c.readMaxLag); err != nil || opts.MaxReplicaLag < 0 {
		return nil, usagef("--db-read-max-lag: %q is not a duration (0: no bound)", c.readMaxLag)
	}
	if opts.MaxReplicaLag == 0 {
		opts.MaxReplicaLag = store.NoReplicaLagBound
	}
	if c.readURL != "" && !store.IsPostgres(c.readURL) {
		return nil, usagef("--db-read: a read replica is a postgres:// URL")
	}
	if c.readURL != "" && !store.IsPostgres(c.url) {
		return nil, usagef("--db-read: a read replica needs a PostgreSQL --db")
	}
	var ring *keyring.Ring
	if c.sealed() {
		kek, err := keyring.ParseKey(c.keyEncryptionKey)
		if err != nil {
			return nil, usagef("%s: %v", keyEncryptionKeyEnv, err)
		}
		if ring, err = keyring.New(kek); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, c.url, opts)
	if err != nil {
		return nil, err
	}
	if _, err := store.SealStoredKeys(ctx, st, ring); err != nil {
		st.Close()
		return nil, fmt.Errorf("sealing stored signing keys: %w", err)
	}
	return store.WithSealedKeys(st, ring), nil
}

// mmapSize parses --db-mmap into store.Options.MMapSize: a number of bytes
// with an optional KiB, MiB or GiB; 0 is store.NoMMap.
func mmapSize(v string) (int64, error) {
	num, unit := v, int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if s, ok := strings.CutSuffix(v, u.suffix); ok {
			num, unit = s, u.n
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n > uint64(store.MaxMMapSize/unit) {
		return 0, usagef("--db-mmap: %q is not a size like 256MiB, 1GiB or 0 (no map), at most %d bytes", v, store.MaxMMapSize)
	}
	if n == 0 {
		return store.NoMMap, nil
	}
	return int64(n) * unit, nil
}

// sealed reports whether signing keys are sealed at rest.
func (c dbConfig) sealed() bool { return c.keyEncryptionKey != "" }

// name is the database for output: a URL without its password.
func (c dbConfig) name() string { return store.Redact(c.url) }
