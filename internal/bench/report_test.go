package bench

import (
	"strings"
	"testing"

	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
)

func TestTables(t *testing.T) {
	rows := "scenario\treq/s\tp50\t\nfull\t1609\t15.64ms\t\nno-validator\t1601\t15.75ms\t\n"
	for _, tc := range []struct {
		markdown bool
		want     string
	}{
		{false, "      scenario  req/s      p50\n          full   1609  15.64ms\n  no-validator   1601  15.75ms\n"},
		{true, "\n| scenario | req/s | p50 |\n| --- | ---: | ---: |\n| full | 1609 | 15.64ms |\n| no-validator | 1601 | 15.75ms |\n\n"},
	} {
		var out strings.Builder
		tw := Config{Out: &out, Markdown: tc.markdown}.table()
		tw.Write([]byte(rows))
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("markdown=%v:\n%q\nwant\n%q", tc.markdown, out.String(), tc.want)
		}
	}
}

// cmd/membench may not import pgtest, so the name is kept twice.
func TestPostgresEnvIsPgtests(t *testing.T) {
	if PostgresEnv != pgtest.EnvVar {
		t.Errorf("PostgresEnv = %q, pgtest.EnvVar = %q", PostgresEnv, pgtest.EnvVar)
	}
}
