package sqlite

import (
	"database/sql"
	"path/filepath"
	"sort"
	"testing"

	"github.com/wachtbench/memberships/internal/store/storetest"
)

// dumpSchema is every table, index and trigger as sqlite_master keeps it.
func dumpSchema(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT type, name, sql FROM sqlite_master
		WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var entries []string
	for rows.Next() {
		var kind, name, text string
		if err := rows.Scan(&kind, &name, &text); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, "-- "+kind+" "+name+"\n"+text+";")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(entries)
	return storetest.Dumped(entries)
}

// TestSchema: a fresh migrate gives the committed schema.sql, and so does
// migrating to the end a database of every earlier history.
func TestSchema(t *testing.T) {
	fresh := openTemp(t, filepath.Join(t.TempDir(), "fresh.db"))
	storetest.Schema(t, "schema.sql", "fresh migrate", dumpSchema(t, fresh.DB()))
	for name, steps := range storetest.SchemaHistories(t, migrationFiles) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			for _, fsys := range steps {
				migrations = fsys
				openTemp(t, path).Close()
			}
			migrations = migrationFiles
			t.Cleanup(func() { migrations = migrationFiles })
			s := openTemp(t, path)
			storetest.Schema(t, "schema.sql", name, dumpSchema(t, s.DB()))
		})
	}
}
