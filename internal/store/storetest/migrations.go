package storetest

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/wachtbench/memberships/internal/store/migrate"
)

// WithBrokenMigration returns a store's real migrations followed by
// migrations/9999_broken.sql holding brokenSQL, and the versions of the real
// ones: after a failed Migrate, exactly those must be recorded.
func WithBrokenMigration(t *testing.T, real fs.FS, brokenSQL string) (fs.FS, []string) {
	t.Helper()
	fsys := fstest.MapFS{"migrations/9999_broken.sql": {Data: []byte(brokenSQL)}}
	var applied []string
	if err := migrate.Each(real, func(version string, body []byte) error {
		fsys["migrations/"+version+".sql"] = &fstest.MapFile{Data: body}
		applied = append(applied, version)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return fsys, applied
}

// Migrated takes a store just opened (s, err): it fails t on err, closes
// the store when t ends and migrates it.
func Migrated[S interface {
	Migrate(context.Context) error
	Close() error
}](t testing.TB, s S, err error) S {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}
