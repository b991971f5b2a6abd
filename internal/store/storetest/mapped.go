package storetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Mapped reports whether this process maps the file at path into memory,
// from /proc/self/maps (Linux; elsewhere it skips t). Tests that damage a
// SQLite file under an open store ask it first: a read of a mapped page past
// the file's end is a SIGBUS, which would end the test binary.
func Mapped(t testing.TB, path string) bool {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("cannot see this process's memory maps: %v", err)
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(maps)) {
		if strings.HasSuffix(strings.TrimSuffix(line, "\n"), " "+abs) {
			return true
		}
	}
	return false
}
