// Package cli is the memberships command line: one testable Run over cobra
// commands, with every flag falling back to a MEMBERSHIPS_* environment
// variable.
//
// It imports the server, store, client, loadfile, seed and the packages they
// need; only cmd/memberships imports it.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/keyring"
	"github.com/wachtbench/memberships/internal/store"
	"github.com/wachtbench/memberships/internal/store/fragment"
)

// env reads the environment; injected so tests need no real one.
type env func(string) string

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	root := newRoot(getenv)
	if args == nil {
		args = []string{} // cobra reads nil as os.Args[1:]
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetContext(ctx)
	err := root.Execute()
	if err != nil {
		fmt.Fprintln(stderr, "memberships:", err)
	}
	return exitCode(err)
}

// newRoot builds the command tree, every flag bound to its variable.
func newRoot(getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:   "memberships",
		Short: "The Wacht workspace-memberships API: serve it, feed it, call it",
		Long: `memberships serves GET /me/workspace-memberships, enforcing the contract in
openapi.yaml, on SQLite (the default) or PostgreSQL, and carries the tools
around it.

Quick start:
  memberships serve                      # demo data into a new memberships.db
  memberships token --user demo@example.com
  memberships list --url http://localhost:8080 --session TOKEN

Every flag can also be set through the environment variable shown in its
help; a flag on the command line wins over the variable, the variable over
the default, and an empty variable counts as unset.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Runnable, so that an unknown command is a usage error of ours.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q%s", args[0], cmd.CommandPath(), suggest(cmd, args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return fillFromEnv(cmd.Flags(), getenv)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	e := env(getenv)
	root.AddCommand(serveCmd(e), migrateCmd(e), loadCmd(e), tokenCmd(e), listCmd(), seedCmd(e), versionCmd())
	bindEnv(root)
	return root
}

// suggest is cobra's "Did you mean" for an unknown command.
func suggest(cmd *cobra.Command, arg string) string {
	s := cmd.SuggestionsFor(arg)
	if len(s) == 0 {
		return ""
	}
	return "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
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
	url, readURL                                string
	maxConns                                    int
	connectTimeout, statementTimeout, readCheck time.Duration
	readMaxLag                                  time.Duration
	mmap                                        *sizeValue
	keyEncryptionKey                            string       // from the environment only
	log                                         *slog.Logger // serve's, for replica failover
	fragments                                   *fragment.Cache
	tracer                                      trace.TracerProvider // serve's, for statement spans
	flags                                       *pflag.FlagSet       // for errors naming where a value came from
}

// dbFlags declares the database flags.
func (e env) dbFlags(fs *pflag.FlagSet, c *dbConfig) {
	c.keyEncryptionKey = e(keyEncryptionKeyEnv)
	c.flags = fs
	c.mmap = newSize(defaultMMap, mmapSize)
	fs.StringVar(&c.url, "db", defaultDB,
		"database: a SQLite file path or sqlite://path, or a postgres:// (postgresql://) URL")
	fs.StringVar(&c.readURL, "db-read", "",
		"PostgreSQL read replica URL for the request path's reads (sessions always use the primary; empty: none)")
	fs.DurationVar(&c.readCheck, "db-read-check", store.DefaultReadCheckInterval,
		"how often the read replica is probed (each probe may take as long); while it does not answer, reads go to the primary")
	fs.DurationVar(&c.readMaxLag, "db-read-max-lag", store.DefaultMaxReplicaLag,
		"the most the read replica's reads may be stale: past it, or while its replay lag cannot be measured, reads go to the primary (0: no bound)")
	fs.IntVar(&c.maxConns, "db-max-conns", int(store.DefaultMaxConns),
		"PostgreSQL: connections per pool (primary, replica); the default is the cores, at least 4")
	fs.DurationVar(&c.connectTimeout, "db-connect-timeout", store.DefaultConnectTimeout,
		"PostgreSQL: how long opening a connection may take")
	fs.DurationVar(&c.statementTimeout, "db-statement-timeout", store.DefaultStatementTimeout,
		"PostgreSQL: statement_timeout of every statement")
	fs.Var(c.mmap, "db-mmap",
		"SQLite: the most of the file each connection reads through a memory map (KiB, MiB or GiB), up to 2047MiB; faster reads, but another program truncating or overwriting the file in place crashes the process (SIGBUS); 0: no map")
}

// open checks the settings (a bad one is a usage error) and opens the store;
// a store that cannot be opened or migrated is unavailable.
func (c dbConfig) open(ctx context.Context) (domain.Store, error) {
	if c.maxConns < 1 || c.maxConns > math.MaxInt32 {
		return nil, badValue(c.flags, "db-max-conns", "%d is not a positive number", c.maxConns)
	}
	opts := store.Options{ReadURL: c.readURL, MaxConns: int32(c.maxConns), Logger: c.log, Fragments: c.fragments, TracerProvider: c.tracer,
		MMapSize: c.mmap.bytes, ConnectTimeout: c.connectTimeout, StatementTimeout: c.statementTimeout, ReadCheckInterval: c.readCheck}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{
		{"db-connect-timeout", c.connectTimeout},
		{"db-statement-timeout", c.statementTimeout},
		{"db-read-check", c.readCheck},
	} {
		if d.v <= 0 {
			return nil, badValue(c.flags, d.flag, "%s is not a positive duration", d.v)
		}
	}
	if c.readMaxLag < 0 {
		return nil, badValue(c.flags, "db-read-max-lag", "%s is not a duration (0: no bound)", c.readMaxLag)
	}
	opts.MaxReplicaLag = c.readMaxLag
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
		return nil, unavailable(err) // the stores name the database
	}
	if _, err := store.SealStoredKeys(ctx, st, ring); err != nil {
		st.Close()
		return nil, fmt.Errorf("sealing stored signing keys: %w", err)
	}
	return store.WithSealedKeys(st, ring), nil
}

// mmapSize parses --db-mmap into store.Options.MMapSize: a size
// (parseSize); 0 is store.NoMMap.
func mmapSize(v string) (int64, error) {
	n, err := parseSize(v, store.MaxMMapSize)
	if n == 0 && err == nil {
		n = store.NoMMap
	}
	return n, err
}

// parseSize reads a number of bytes with an optional KiB, MiB or GiB, at
// most most.
func parseSize(v string, most int64) (int64, error) {
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
	if err != nil || n > uint64(most/unit) {
		return 0, fmt.Errorf("%q is not a size like 256MiB, 1GiB or 0, at most %d bytes", v, most)
	}
	return int64(n) * unit, nil
}

// sealed reports whether signing keys are sealed at rest.
func (c dbConfig) sealed() bool { return c.keyEncryptionKey != "" }

// name is the database for output: a URL without its password.
func (c dbConfig) name() string { return store.Redact(c.url) }
