package writers

import (
	"net/http"
	"testing"
)

// TestRestoreNeverRepeatsAVersion: a backup restored sets the version
// counter back (SQLite's fragment_clock, PostgreSQL's sequence); the next
// write took the version a write before the restore had, for other
// contents, and the warm instance served what it had cached under it: the
// pre-restore answer, confirmed by a 304.
func TestRestoreNeverRepeatsAVersion(t *testing.T) {
	eachStore(t, func(t *testing.T, pg bool) {
		e := newEnv(t, pg)
		p := poll{user: 0, addr: "203.0.113.9"}
		step := func(what, query string) served {
			t.Helper()
			if query != "" {
				if err := e.exec(e.raw, write{query: query}); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			cold, done := e.cold(t)
			defer done()
			return e.check(t, e.tables(t), p, cold)
		}
		step("start", "")
		if err := e.takeBackup(); err != nil {
			t.Fatal(err)
		}
		renamed := step("rename", `UPDATE workspaces SET name = 'Renamed' WHERE id = 140`)
		if err := e.restore(); err != nil {
			t.Fatal(err)
		}
		step("restore", "")
		step("after the restore", `UPDATE workspaces SET description = 'Described' WHERE id = 140`)
		q := p
		q.inm = renamed.etag
		if s := e.serve(t, e.warm, q); s.status == http.StatusNotModified {
			t.Errorf("the ETag of the answer before the restore got a 304")
		}
	})
}
