package postgres

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The store's connections scan a timestamptz into an int64 as unix
// microseconds, exactly, in binary and in text, and refuse what has none.
func TestMicros(t *testing.T) {
	s := openFresh(t, Options{})
	ctx := t.Context()
	for _, v := range []string{
		"2026-11-27 12:34:56.789123+00",
		"1969-12-31 23:59:59.999999+00",
		"2250-01-01 00:00:00.000001+00", // where a float8 epoch loses the microsecond
		"0001-01-01 00:00:00.000001+00",
		"2000-01-01 00:00:00+00",
	} {
		want, err := time.Parse("2006-01-02 15:04:05.999999-07", v)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
			var got int64
			if err := s.Primary().QueryRow(ctx, "SELECT $1::text::timestamptz", mode, v).Scan(&got); err != nil {
				t.Fatalf("%s (mode %v): %v", v, mode, err)
			}
			if got != want.UnixMicro() {
				t.Errorf("%s (mode %v): %d, want %d", v, mode, got, want.UnixMicro())
			}
		}
	}
	for _, v := range []string{"infinity", "-infinity"} {
		var got int64
		if err := s.Primary().QueryRow(ctx, "SELECT $1::text::timestamptz", v).Scan(&got); err == nil {
			t.Errorf("%s scanned as %d", v, got)
		}
	}
	var got int64
	if err := s.Primary().QueryRow(ctx, "SELECT NULL::timestamptz").Scan(&got); err == nil {
		t.Errorf("NULL scanned as %d", got)
	}
	var tm time.Time // other targets as pgx reads them
	if err := s.Primary().QueryRow(ctx, "SELECT '2026-11-27 12:34:56.789123+00'::timestamptz").Scan(&tm); err != nil || tm.UnixMicro() != 1795782896789123 {
		t.Errorf("time.Time: %v, %v", tm, err)
	}
}
