package postgres

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/wachtbench/memberships/internal/store/fragment"
)

// TestFragmentRawBytesAreCopies: pgx scans a text into an *sql.RawBytes as a
// new copy (not its read buffer, as pgtype.DriverBytes would be), so the
// fragment path's pooled scratch may keep a row's RawBytes after its rows
// are closed and the connection reads other answers.
func TestFragmentRawBytesAreCopies(t *testing.T) {
	s := openFresh(t, Options{})
	run := query(s.primary)
	var id int64
	var text sql.RawBytes
	var kept []sql.RawBytes
	err := run(t.Context(), `SELECT id, repeat(chr(96 + id), 10) FROM generate_series(1, 3) AS id`, nil, func(row fragment.Scanner) error {
		if err := row.Scan(&id, &text); err != nil {
			return err
		}
		kept = append(kept, text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 { // the pool's connections read other rows into their buffers
		if err := run(t.Context(), `SELECT repeat('z', 100) FROM generate_series(1, 50)`, nil, func(row fragment.Scanner) error {
			return row.Scan(&text)
		}); err != nil {
			t.Fatal(i, err)
		}
	}
	for i, b := range kept {
		if want := strings.Repeat(string(rune('a'+i)), 10); string(b) != want {
			t.Errorf("row %d: %q, want %q", i+1, b, want)
		}
	}
}
