// Package store opens the store a database URL names.
package store

import (
	"context"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/sqlite"
)

// Open opens and migrates the store at url: a SQLite path or sqlite://path.
func Open(ctx context.Context, url string) (domain.Store, error) {
	s, err := sqlite.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
