package store

import (
	"os/exec"
	"path/filepath"
	"strings"
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

// The stores return domain data: nothing under internal/store depends on
// the wire types (gen) or on how answers are written (internal/answer).
func TestStoresKnowNoWireTypes(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", "github.com/wachtbench/memberships/internal/store/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/wachtbench/memberships/gen" || pkg == "github.com/wachtbench/memberships/internal/answer" {
			t.Errorf("internal/store/... depends on %s", pkg)
		}
	}
}
