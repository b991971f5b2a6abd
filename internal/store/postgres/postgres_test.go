package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// openFresh opens and migrates a store on a schema of its own.
func openFresh(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), pgtest.URL(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// mutable adds the storetest.Mutator hooks with plain SQL.
type mutable struct{ *Store }

func (m mutable) exec(ctx context.Context, query string, args ...any) error {
	tag, err := m.Primary().Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return errors.New("no row changed")
	}
	return nil
}

func (m mutable) SignOut(ctx context.Context, id int64, at time.Time) error {
	return m.exec(ctx, `UPDATE sign_ins SET signed_out_at = $1 WHERE id = $2`, at, id)
}

func (m mutable) DeleteSession(ctx context.Context, id int64, at time.Time) error {
	return m.exec(ctx, `UPDATE sessions SET deleted_at = $1 WHERE id = $2`, at, id)
}

func (m mutable) ClearActiveSignIn(ctx context.Context, id int64) error {
	return m.exec(ctx, `UPDATE sessions SET active_sign_in_id = NULL WHERE id = $1`, id)
}

func (m mutable) DeleteUser(ctx context.Context, id int64, at time.Time) error {
	return m.exec(ctx, `UPDATE users SET deleted_at = $1 WHERE id = $2`, at, id)
}

func TestConformance(t *testing.T) {
	pgtest.Skip(t)
	storetest.Run(t, func(t *testing.T) domain.Store {
		return mutable{openFresh(t, Options{})}
	})
}
