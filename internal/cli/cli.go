// Package cli is the memberships command line: one testable Run over cobra
// commands, with every flag falling back to a MEMBERSHIPS_* environment
// variable.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/keyring"
	"github.com/wachtbench/memberships/internal/store"
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
contract in openapi.yaml, and carries the tools around it.

Quick start:
  memberships serve                      # demo data on an empty database
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

// openStore opens and migrates the database, sealing signing keys when a
// key-encryption key is set. sealed reports whether one is.
func (e env) openStore(ctx context.Context, db string) (st domain.Store, sealed bool, err error) {
	var ring *keyring.Ring
	if k := e(keyEncryptionKeyEnv); k != "" {
		kek, err := keyring.ParseKey(k)
		if err != nil {
			return nil, false, usagef("%s: %v", keyEncryptionKeyEnv, err)
		}
		if ring, err = keyring.New(kek); err != nil {
			return nil, false, err
		}
	}
	s, err := store.Open(ctx, db)
	if err != nil {
		return nil, false, err
	}
	return store.WithSealedKeys(s, ring), ring != nil, nil
}

// dbFlag is the database flag every command that opens the store shares.
func (e env) dbFlag(fs *pflag.FlagSet, p *string) {
	e.stringFlag(fs, p, "db", "MEMBERSHIPS_DB", "memberships.db", "database: a SQLite file path or sqlite://path")
}
