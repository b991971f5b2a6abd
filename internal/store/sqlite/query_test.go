package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wachtbench/memberships/internal/store/fragment"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// TestDriverRows: the fragment path's scan of the driver's values gives
// what database/sql gives, conversions and errors included.
func TestDriverRows(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "rows.db"))
	s = storetest.Migrated(t, s, err)
	scan := func(query string, dest ...any) error {
		t.Helper()
		rows := 0
		err := s.query(t.Context(), query, nil, func(row fragment.Scanner) error {
			rows++
			return row.Scan(dest...)
		})
		if err == nil && rows != 1 {
			t.Fatalf("%s: %d rows", query, rows)
		}
		return err
	}

	var n, big int64
	var text, blob, null sql.RawBytes
	if err := scan(`SELECT 7, 1782000000000000, 'héllo', x'00ff', NULL`, &n, &big, &text, &blob, &null); err != nil {
		t.Fatal(err)
	}
	if n != 7 || big != 1782000000000000 || string(text) != "héllo" || string(blob) != "\x00\xff" || null != nil {
		t.Errorf("scanned %d %d %q %q %v", n, big, text, blob, null)
	}
	if err := scan(`SELECT 'x', 'yz'`, &text, &blob); err != nil || string(text) != "x" || string(blob) != "yz" {
		t.Errorf("second scan: %q %q %v", text, blob, err)
	}
	if err := scan(`SELECT '12'`, &n); err != nil || n != 12 {
		t.Errorf("text into int64: %d %v", n, err)
	}
	if err := scan(`SELECT 'x'`, &n); err == nil || n != 12 {
		t.Errorf("'x' into int64: %d %v (want an error, and 12 left as it was)", n, err)
	}
	if err := scan(`SELECT NULL`, &n); err == nil || !strings.Contains(err.Error(), "NULL") {
		t.Errorf("NULL into int64: %v", err)
	}
	if err := scan(`SELECT 1.5`, &text); err != nil || string(text) != "1.5" {
		t.Errorf("float into RawBytes: %q %v", text, err)
	}
	var name string
	var ok bool
	var b []byte
	var auto sql.NullInt64
	if err := scan(`SELECT 'w', 1, 'json', NULL`, &name, &ok, &b, &auto); err != nil || name != "w" || !ok || string(b) != "json" || auto.Valid {
		t.Errorf("other destinations: %q %v %q %v %v", name, ok, b, auto, err)
	}
	if err := scan(`SELECT 2`, &ok); err == nil {
		t.Errorf("2 into bool: %v", ok)
	}
	if err := scan(`SELECT 1, 2`, &n); err == nil {
		t.Error("two columns into one destination")
	}
	if err := scan(`SELECT nope`, &n); err == nil {
		t.Error("a statement that does not prepare")
	}
}

// TestDriverRowsOwnTheirBuffers: each RawBytes is its own buffer, reused
// row after row; one column never writes over another, however the texts'
// lengths change from row to row.
func TestDriverRowsOwnTheirBuffers(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "rows.db"))
	s = storetest.Migrated(t, s, err)
	var n int64
	var meta, roles sql.RawBytes
	want := [][2]string{{"aaaa", "bbbb"}, {"cccccccc", "dd"}, {"", "eeeeeeeeeeee"}}
	i := 0
	err = s.query(t.Context(), `VALUES ('1', 'aaaa', 'bbbb'), (2, 'cccccccc', 'dd'), (3, '', 'eeeeeeeeeeee')`, nil, func(row fragment.Scanner) error {
		if err := row.Scan(&n, &meta, &roles); err != nil {
			return err
		}
		if n != int64(i+1) || string(meta) != want[i][0] || string(roles) != want[i][1] {
			t.Errorf("row %d: %d %q %q, want %d %q %q", i, n, meta, roles, i+1, want[i][0], want[i][1])
		}
		i++
		return nil
	})
	if err != nil || i != len(want) {
		t.Fatalf("%d rows: %v", i, err)
	}
}

// TestDriverRowsStopWhenTheContextIsDone: a request cancelled between rows
// stops reading, with the context's error, as database/sql's rows did.
func TestDriverRowsStopWhenTheContextIsDone(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "rows.db"))
	s = storetest.Migrated(t, s, err)
	ctx, cancel := context.WithCancel(t.Context())
	rows := 0
	err = s.query(ctx, `VALUES (1), (2), (3)`, nil, func(fragment.Scanner) error {
		rows++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || rows != 1 {
		t.Errorf("%d rows: %v", rows, err)
	}
}

// TestDriverRowsKeepOnlyTheFragmentStatements: a connection keeps the
// fragment SQL prepared and closes any other statement after its call, so
// its cache stays bounded whatever texts reach it.
func TestDriverRowsKeepOnlyTheFragmentStatements(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "rows.db"))
	s = storetest.Migrated(t, s, err)
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	none := func(fragment.Scanner) error { return nil }
	err = conn.Raw(func(dc any) error {
		c := dc.(*countingConn)
		for _, q := range []string{`SELECT 1`, `SELECT 2`, fragmentSQL.Roles} {
			if err := c.each(t.Context(), q, []any{fragmentSQL.IDs([]int64{1})}[:strings.Count(q, "?")], none); err != nil {
				return err
			}
		}
		if len(c.stmts) != 1 || c.stmts[fragmentSQL.Roles] == nil {
			t.Errorf("kept %d statements, want only the roles statement", len(c.stmts))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
