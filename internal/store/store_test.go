package store

import (
	"path/filepath"
	"testing"

	"github.com/wachtbench/memberships/internal/store/storetest"
)

// Options.MMapSize reaches SQLite: the zero value maps the file, NoMMap
// does not, and a size SQLite cannot map is refused.
func TestMMapSize(t *testing.T) {
	for _, tc := range []struct {
		mmap   int64
		mapped bool
	}{{0, true}, {NoMMap, false}, {64 << 10, true}} {
		path := filepath.Join(t.TempDir(), "m.db")
		s, err := Open(t.Context(), path, Options{MMapSize: tc.mmap})
		s = storetest.Migrated(t, s, err)
		if _, err := s.Empty(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := storetest.Mapped(t, path); got != tc.mapped {
			t.Errorf("MMapSize %d: mapped = %v, want %v", tc.mmap, got, tc.mapped)
		}
	}
	for _, mmap := range []int64{-2, MaxMMapSize + 1} {
		if s, err := Open(t.Context(), filepath.Join(t.TempDir(), "bad.db"), Options{MMapSize: mmap}); err == nil {
			s.Close()
			t.Errorf("MMapSize %d: opened", mmap)
		}
	}
}
