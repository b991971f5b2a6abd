package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSeed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "seed.db")
	code, out, stderr := run(t, "seed", "--db", db, "--host", "Bench.Test", "--users", "30", "--chunk", "7",
		"--organizations", "2", "--workspaces", "3", "--memberships", "4", "--roles", "2", "--roles-per-membership", "2")
	if code != 0 {
		t.Fatalf("seed: %d %s", code, stderr)
	}
	if !strings.Contains(out, "30 users, 2 organizations, 6 workspaces, 120 workspace memberships") || stderr != "" { // no progress bar off a terminal
		t.Errorf("output %q, progress %q", out, stderr)
	}
	if code, tok, stderr := run(t, "token", "--db", db, "--host", "bench.test", "--user", "user29@bench.test"); code != 0 || strings.Count(tok, ".") != 2 {
		t.Errorf("token for a seeded user: %d %q %s", code, tok, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--users", "many"}, `invalid argument "many" for "--users"`},
		{[]string{"--organizations", "0"}, "--organizations"},
		{[]string{"--chunk", "-1"}, "--chunk"},
		{[]string{"--seed", "-1"}, "--seed"},
		{[]string{"--mode", "sideways"}, "mode"},
	} {
		code, _, stderr := run(t, append([]string{"seed", "--db", db}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want 2 naming %s", tc.args, code, stderr, tc.want)
		}
	}
}
