package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wachtbench/memberships/internal/store/storetest"
)

// BenchmarkMemberships (storetest) through the default memory map and
// (",mmap=0") without one (--db-mmap 0).
func BenchmarkMemberships(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	unmapped, err := OpenMapped(ctx, path, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unmapped.Close()
	storetest.BenchmarkMemberships(b, storetest.Named{Store: s}, storetest.Named{Suffix: ",mmap=0", Store: unmapped})
}
