// Package demo runs the demo data set (examples/demo.yaml) in-process: a
// SQLite store in a directory of the caller's and session tokens for its
// users. Examples and end-to-end tests use it; the binary does the same
// through `memberships serve` and `memberships token`.
//
// It imports examples, store, loadfile, auth and domain; never the server.
package demo

import (
	"context"
	"path/filepath"
	"time"

	"github.com/wachtbench/memberships/examples"
	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/loadfile"
	"github.com/wachtbench/memberships/internal/store"
)

// Host is the demo deployment's primary host; 127.0.0.1 is its alias.
const Host = "localhost"

// User is the demo user, who sees every kind of restriction.
const User = "demo@example.com"

// Open creates a store in dir holding the demo data set, after edit (if not
// nil) has changed it — to allow a test's browser origin, say.
func Open(ctx context.Context, dir string, edit func(*domain.Dataset)) (domain.Store, error) {
	ds, err := loadfile.Parse("examples/demo.yaml", examples.Demo, time.Now())
	if err != nil {
		return nil, err
	}
	if edit != nil {
		edit(ds)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "demo.db"), store.Options{})
	if err != nil {
		return nil, err
	}
	if err := st.Load(ctx, ds); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// Token creates a session for user (id or e-mail) of the deployment on host
// and returns its signed session token, as `memberships token` does.
func Token(ctx context.Context, st domain.Store, host, user string) (string, error) {
	return auth.Mint(ctx, st, host, user, auth.TokenLifetime)
}
