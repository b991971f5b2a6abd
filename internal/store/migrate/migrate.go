// Package migrate walks a store's embedded migrations: the files
// migrations/NNNN_name.sql of a file system, in order; checks a database's
// recorded ones against them; and reads a derived-schema file.
//
// It imports no other package of the module.
package migrate

import (
	"crypto/sha256"
	"encoding/hex"
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

// Check refuses a database whose recorded migrations (applied, in any
// order) do not fit the embedded ones: a version no file has (a newer
// binary migrated it), or a migration not applied below one that is (a
// file added out of order, or a record removed), which would run out of
// order. released names migrations that were released out of order and
// may still be pending below applied ones on databases of that time.
func Check(fsys fs.FS, applied []string, released map[string]bool) error {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return err
	}
	known := map[string]bool{}
	var versions []string
	for _, name := range names {
		v := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		known[v] = true
		versions = append(versions, v)
	}
	sort.Strings(versions)
	done := map[string]bool{}
	var unknown []string
	for _, v := range applied {
		done[v] = true
		if !known[v] {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("the database has migrations this program does not know: %s (was it migrated by a newer version?)",
			strings.Join(unknown, ", "))
	}
	last := ""
	for _, v := range versions {
		if done[v] {
			last = v
		}
	}
	var gaps []string
	for _, v := range versions {
		if v < last && !done[v] && !released[v] {
			gaps = append(gaps, v)
		}
	}
	if len(gaps) > 0 {
		return fmt.Errorf("migrations %s are not applied, but the later %s is: they would run out of order "+
			"(a migration must be numbered after every released one)", strings.Join(gaps, ", "), last)
	}
	return nil
}

// Derived reads a derived-schema file (a store's derived.sql): the
// migration it is written against (its "-- schema: VERSION" line) and its
// checksum, which Migrate records once the file is applied and compares on
// every start.
func Derived(body []byte) (schema, checksum string, err error) {
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "-- schema: "); ok {
			schema = strings.TrimSpace(v)
			break
		}
	}
	if schema == "" {
		return "", "", fmt.Errorf("derived schema: no \"-- schema: VERSION\" line")
	}
	sum := sha256.Sum256(body)
	return schema, hex.EncodeToString(sum[:]), nil
}
