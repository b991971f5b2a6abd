// Package migrate walks a store's embedded migrations: the files
// migrations/NNNN_name.sql of a file system, in order.
//
// It imports no other package of the module.
package migrate

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Each calls apply for every migration in order, with its version (the file
// name without directory and .sql) and its SQL, stopping at the first error,
// which names the migration.
func Each(fsys fs.FS, apply func(version string, sql []byte) error) error {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := fs.ReadFile(fsys, name)
		if err == nil {
			err = apply(strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql"), body)
		}
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}
