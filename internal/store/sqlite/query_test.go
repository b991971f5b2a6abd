package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wachtbench/memberships/internal/store/storetest"
)

// TestPlainRows: the fragment path's scan without reflection gives what
// database/sql gives, and its errors where a value does not fit.
func TestPlainRows(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "plain.db"))
	s = storetest.Migrated(t, s, err)
	scan := func(query string, dest ...any) error {
		t.Helper()
		rows, closeRows, err := s.query(t.Context(), query, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer closeRows()
		if !rows.Next() {
			t.Fatalf("%s: no row: %v", query, rows.Err())
		}
		return rows.Scan(dest...)
	}

	var n, big int64
	var text, blob, null sql.RawBytes
	if err := scan(`SELECT 7, 1782000000000000, 'héllo', x'00ff', NULL`, &n, &big, &text, &blob, &null); err != nil {
		t.Fatal(err)
	}
	if n != 7 || big != 1782000000000000 || string(text) != "héllo" || string(blob) != "\x00\xff" || null != nil {
		t.Errorf("scanned %d %d %q %q %v", n, big, text, blob, null)
	}
	// Each row reuses the buffers: an earlier text is not kept alive by them.
	if err := scan(`SELECT 'x', 'yz'`, &text, &blob); err != nil || string(text) != "x" || string(blob) != "yz" {
		t.Errorf("second scan: %q %q %v", text, blob, err)
	}

	// What does not fit goes to database/sql: its conversions and its errors.
	if err := scan(`SELECT '12'`, &n); err != nil || n != 12 {
		t.Errorf("text into int64: %d %v", n, err)
	}
	if err := scan(`SELECT NULL`, &n); err == nil || !strings.Contains(err.Error(), "NULL") {
		t.Errorf("NULL into int64: %v", err)
	}
	if err := scan(`SELECT 1.5`, &text); err != nil || string(text) != "1.5" {
		t.Errorf("float into RawBytes: %q %v", text, err)
	}
	var name string
	var ok bool
	if err := scan(`SELECT 'w', 1`, &name, &ok); err != nil || name != "w" || !ok {
		t.Errorf("other destinations: %q %v %v", name, ok, err)
	}
}

// TestPlainRowsFallbackOwnsItsBuffers: a row that takes database/sql's own
// Scan (a value that is not an int64 for an *int64) leaves the RawBytes
// pointing into database/sql's one raw buffer, each column's piece reaching
// to its end; the next row's fast path appends into those pieces and must
// not write one column over another (nor, through a pooled scratch, into a
// buffer a later request's columns share).
func TestPlainRowsFallbackOwnsItsBuffers(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "plain.db"))
	s = storetest.Migrated(t, s, err)
	rows, closeRows, err := s.query(t.Context(), `VALUES ('1', 'aaaa', 'bbbb'), (2, 'cccccccc', 'dd')`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRows()
	var n int64
	var meta, roles sql.RawBytes
	for i, want := range [][2]string{{"aaaa", "bbbb"}, {"cccccccc", "dd"}} {
		if !rows.Next() {
			t.Fatalf("row %d: %v", i, rows.Err())
		}
		if err := rows.Scan(&n, &meta, &roles); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if n != int64(i+1) || string(meta) != want[0] || string(roles) != want[1] {
			t.Errorf("row %d: %d %q %q, want %d %q %q", i, n, meta, roles, i+1, want[0], want[1])
		}
	}
}
