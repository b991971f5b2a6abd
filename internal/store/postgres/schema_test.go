package postgres

import (
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// schemaSQL lists the schema's tables (columns in order), constraints,
// indexes, triggers, functions and sequences from the catalogs, each as one
// text: stable across PostgreSQL versions, unlike pg_dump's output.
const schemaSQL = `
WITH s AS (SELECT current_schema()::regnamespace AS ns)
SELECT '-- table ' || c.relname || E'\n' || string_agg('    ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''), E'\n' ORDER BY a.attnum)
  FROM s, pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relnamespace = s.ns AND c.relkind = 'r' GROUP BY c.relname
UNION ALL
SELECT '-- constraint ' || r.relname || '.' || k.conname || E'\n' || pg_get_constraintdef(k.oid)
  FROM s, pg_constraint k JOIN pg_class r ON r.oid = k.conrelid WHERE k.connamespace = s.ns
UNION ALL
SELECT '-- index ' || c.relname || E'\n' || pg_get_indexdef(i.indexrelid)
  FROM s, pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = s.ns
UNION ALL
SELECT '-- trigger ' || r.relname || '.' || g.tgname || E'\n' || pg_get_triggerdef(g.oid)
  FROM s, pg_trigger g JOIN pg_class r ON r.oid = g.tgrelid WHERE r.relnamespace = s.ns AND NOT g.tgisinternal
UNION ALL
SELECT '-- function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || E')\n' || pg_get_functiondef(p.oid)
  FROM s, pg_proc p WHERE p.pronamespace = s.ns
UNION ALL
SELECT '-- sequence ' || c.relname FROM s, pg_class c WHERE c.relnamespace = s.ns AND c.relkind = 'S'`

func dumpSchema(t *testing.T, url string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var schema string
	if err := conn.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(t.Context(), schemaSQL)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		entries[i] = strings.TrimRight(strings.ReplaceAll(e, schema+".", ""), "\n")
	}
	sort.Strings(entries)
	return storetest.Dumped(entries)
}

// TestSchema: a fresh migrate gives the committed schema.sql, and so does
// migrating to the end a database of every earlier history.
func TestSchema(t *testing.T) {
	url := pgtest.URL(t)
	openAt(t, url, Options{})
	storetest.Schema(t, "schema.sql", "fresh migrate", dumpSchema(t, url))
	for name, steps := range storetest.SchemaHistories(t, migrationFiles) {
		t.Run(name, func(t *testing.T) {
			url := pgtest.URL(t)
			for _, fsys := range steps {
				migrations = fsys
				openAt(t, url, Options{}).Close()
			}
			migrations = migrationFiles
			t.Cleanup(func() { migrations = migrationFiles })
			openAt(t, url, Options{})
			storetest.Schema(t, "schema.sql", name, dumpSchema(t, url))
		})
	}
}
