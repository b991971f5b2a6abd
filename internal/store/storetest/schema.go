package storetest

import (
	"flag"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/wachtbench/memberships/internal/store/migrate"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite the committed schema dumps (schema.sql of each store)")

// SchemaHistories are the migration histories a database may have been
// through before it is migrated to the end: each returns the migrations a
// database first had (a subset of all), in the order they were released.
// Every prefix of the files is one; so is the order of November's releases,
// where 0003 came after 0004.
func SchemaHistories(t *testing.T, all fs.FS) map[string][]fs.FS {
	t.Helper()
	var versions []string
	bodies := map[string][]byte{}
	if err := migrate.Each(all, func(v string, body []byte) error {
		versions = append(versions, v)
		bodies[v] = body
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	subset := func(vs ...string) fs.FS {
		m := fstest.MapFS{}
		for _, v := range vs {
			m["migrations/"+v+".sql"] = &fstest.MapFile{Data: bodies[v]}
		}
		return m
	}
	h := map[string][]fs.FS{}
	for i := range versions {
		h["upgraded from "+versions[i]] = []fs.FS{subset(versions[:i+1]...)}
	}
	// 0001, 0002, then 0004 (released first), then the rest: 0003 runs after it.
	h["0004 released before 0003"] = []fs.FS{subset(versions[0], versions[1]), subset(versions[0], versions[1], versions[3])}
	return h
}

// Schema compares a dump of a migrated database's schema with the committed
// one at path (rewritten with -update-schema).
func Schema(t *testing.T, path, what, dump string) {
	t.Helper()
	if *updateSchema {
		if err := os.WriteFile(path, []byte(dump), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update-schema to write it)", err)
	}
	if string(want) != dump {
		t.Errorf("%s: the schema differs from %s (after a schema change, run go test -run TestSchema -update-schema and commit it):\n%s",
			what, path, firstDiff(string(want), dump))
	}
}

// Dumped joins dump entries, sorted by the caller, one blank line apart.
func Dumped(entries []string) string {
	return strings.Join(entries, "\n\n") + "\n"
}
