package postgres

import (
	"context"
	"testing"

	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// BenchmarkMemberships (storetest) on PostgreSQL.
func BenchmarkMemberships(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	storetest.BenchmarkMemberships(b, storetest.Named{Store: s})
}
