package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wachtbench/memberships/client"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store"
)

// updating reports -update, declared by storetest (imported here), which
// also rewrites testdata/help/*.txt.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// commands is every command with flags of its own, as named on the command line.
var commands = []string{"serve", "migrate", "load", "token", "list", "seed"}

// TestHelp pins every flag's name, type, default and variable in --help
// (testdata/help/COMMAND.txt; after adding a flag: go test ./internal/cli -run TestHelp -update).
func TestHelp(t *testing.T) {
	// --db-max-conns defaults to the cores, at least 4: the same text on every machine.
	cores := regexp.MustCompile(fmt.Sprintf(`(--db-max-conns int .*\(default )%d\)`, store.DefaultMaxConns))
	for _, name := range append([]string{"root"}, commands...) {
		args := []string{name, "--help"}
		if name == "root" {
			args = []string{"--help"}
		}
		code, out, stderr := run(t, args...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		out = cores.ReplaceAllString(out, "${1}CORES)")
		golden := filepath.Join("testdata", "help", name+".txt")
		if updating() {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if out != string(want) {
			t.Errorf("%s --help differs from %s (run with -update if intended):\n%s", name, golden, out)
		}
	}
}

// TestEveryFlagDocumented: each flag's help line names its type (bools have
// none), its default and its variable, and the variable is MEMBERSHIPS_…
func TestEveryFlagDocumented(t *testing.T) {
	root := newRoot(noEnv)
	for _, name := range commands {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			line := lineOf(t, cmd.Flags().FlagUsages(), "--"+f.Name+" ")
			typ, _ := pflag.UnquoteUsage(f)
			if typ != "" && !strings.Contains(line, "--"+f.Name+" "+typ+" ") {
				t.Errorf("%s --%s: help does not show its type %s: %s", name, f.Name, typ, line)
			}
			if !strings.Contains(line, "(default ") {
				t.Errorf("%s --%s: help shows no default: %s", name, f.Name, line)
			}
			env := f.Annotations[envKey]
			if len(env) != 1 || !strings.HasPrefix(env[0], "MEMBERSHIPS_") || !strings.Contains(line, "(env "+env[0]+")") {
				t.Errorf("%s --%s: variable %v not in the help: %s", name, f.Name, env, line)
			}
		})
	}
}

func lineOf(t *testing.T, usages, prefix string) string {
	t.Helper()
	for l := range strings.SplitSeq(usages, "\n") {
		if strings.Contains(l, prefix) {
			return l
		}
	}
	t.Fatalf("no help line for %s", prefix)
	return ""
}

// envValue is a valid value of each flag type, as a variable and as
// pflag's String() reads it back.
var envValue = map[string][2]string{
	"string":      {"from-env", "from-env"},
	"bool":        {"true", "true"},
	"int":         {"7", "7"},
	"uint64":      {"7", "7"},
	"duration":    {"7s", "7s"},
	"stringSlice": {"10.0.0.1,10.0.0.0/8", "[10.0.0.1,10.0.0.0/8]"},
	"size":        {"64KiB", "64KiB"},
}

// parsed runs args with getenv up to the command's RunE, which it replaces
// (so nothing is opened or served), and returns the command's flags.
func parsed(t *testing.T, getenv func(string) string, args ...string) (*pflag.FlagSet, error) {
	t.Helper()
	root := newRoot(getenv)
	cmd, _, err := root.Find(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Args, cmd.PreRunE = cobra.ArbitraryArgs, nil
	cmd.RunE = func(*cobra.Command, []string) error { return nil }
	root.SetArgs(args)
	root.SetOut(new(bytes.Buffer))
	root.SetErr(new(bytes.Buffer))
	return cmd.Flags(), root.Execute()
}

// TestEnvFillsEveryFlag sets, for every flag of every command, its variable
// to a value of the flag's type: the flag takes it. Given on the command
// line too, the flag wins.
func TestEnvFillsEveryFlag(t *testing.T) {
	kinds := map[string]bool{}
	for _, name := range commands {
		fs, _ := parsed(t, noEnv, name)
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			v, ok := envValue[f.Value.Type()]
			if !ok {
				t.Fatalf("%s --%s: no test value for type %s", name, f.Name, f.Value.Type())
			}
			kinds[f.Value.Type()] = true
			variable := f.Annotations[envKey][0]
			getenv := func(k string) string {
				if k == variable {
					return v[0]
				}
				return ""
			}
			got, err := parsed(t, getenv, name)
			if err != nil {
				t.Fatalf("%s with %s=%s: %v", name, variable, v[0], err)
			}
			if s := got.Lookup(f.Name).Value.String(); s != v[1] {
				t.Errorf("%s with %s=%s: --%s is %q, want %q", name, variable, v[0], f.Name, s, v[1])
			}
			// Flag beats variable: the command line gives the default back.
			arg := "--" + f.Name + "=" + f.DefValue
			if f.Value.Type() == "stringSlice" {
				arg = "--" + f.Name + "=192.168.0.1"
			}
			got, err = parsed(t, getenv, name, arg)
			if err != nil {
				t.Fatalf("%s %s with %s=%s: %v", name, arg, variable, v[0], err)
			}
			if s := got.Lookup(f.Name).Value.String(); s == v[1] {
				t.Errorf("%s %s with %s=%s: the variable won over the flag", name, arg, variable, v[0])
			}
		})
	}
	for k := range envValue {
		if !kinds[k] {
			t.Errorf("no flag of type %s is left to test", k)
		}
	}
}

// TestEnvNames keeps the variable names scripts and docs use.
func TestEnvNames(t *testing.T) {
	for cmd, names := range map[string][]string{
		"serve": {"MEMBERSHIPS_ADDR", "MEMBERSHIPS_METRICS_ADDR", "MEMBERSHIPS_DB", "MEMBERSHIPS_DB_READ", "MEMBERSHIPS_DB_READ_CHECK",
			"MEMBERSHIPS_DB_MAX_CONNS", "MEMBERSHIPS_DB_CONNECT_TIMEOUT", "MEMBERSHIPS_DB_STATEMENT_TIMEOUT", "MEMBERSHIPS_DB_MMAP",
			"MEMBERSHIPS_TRUSTED_PROXIES", "MEMBERSHIPS_LOG_FORMAT", "MEMBERSHIPS_LOG_LEVEL", "MEMBERSHIPS_DEMO", "MEMBERSHIPS_DRAIN",
			"MEMBERSHIPS_READ_HEADER_TIMEOUT", "MEMBERSHIPS_READ_TIMEOUT", "MEMBERSHIPS_WRITE_TIMEOUT", "MEMBERSHIPS_IDLE_TIMEOUT",
			"MEMBERSHIPS_HANDLER_TIMEOUT", "MEMBERSHIPS_QUERY_TIMEOUT", "MEMBERSHIPS_CACHE_TTL", "MEMBERSHIPS_MAX_INFLIGHT",
			"MEMBERSHIPS_LIMIT_FAILURES", "MEMBERSHIPS_LIMIT_SESSION", "MEMBERSHIPS_MAX_HEADER_BYTES", "MEMBERSHIPS_FRAGMENT_CACHE",
			"MEMBERSHIPS_VALIDATE_RESPONSES"},
		"token": {"MEMBERSHIPS_USER", "MEMBERSHIPS_HOST", "MEMBERSHIPS_EXPIRES_IN", "MEMBERSHIPS_DB"},
		"list":  {"MEMBERSHIPS_URL", "MEMBERSHIPS_SESSION", "MEMBERSHIPS_ORG", "MEMBERSHIPS_OUTPUT"},
		"seed": {"MEMBERSHIPS_SEED_HOST", "MEMBERSHIPS_SEED_MODE", "MEMBERSHIPS_SEED_USERS", "MEMBERSHIPS_SEED_ORGANIZATIONS",
			"MEMBERSHIPS_SEED_WORKSPACES", "MEMBERSHIPS_SEED_MEMBERSHIPS", "MEMBERSHIPS_SEED_ROLES", "MEMBERSHIPS_SEED_ROLES_PER_MEMBERSHIP",
			"MEMBERSHIPS_SEED_SEGMENTS", "MEMBERSHIPS_SEED_CHUNK", "MEMBERSHIPS_SEED_SEED", "MEMBERSHIPS_DB"},
	} {
		fs, _ := parsed(t, noEnv, cmd)
		have := map[string]bool{}
		fs.VisitAll(func(f *pflag.Flag) {
			if v := f.Annotations[envKey]; len(v) == 1 {
				have[v[0]] = true
			}
		})
		for _, n := range names {
			if !have[n] {
				t.Errorf("%s: no flag reads %s", cmd, n)
			}
		}
	}
}

func TestBadEnvValue(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		args     []string
		variable string
		value    string
		want     string
	}{
		{[]string{"serve", "--db", db}, "MEMBERSHIPS_DEMO", "maybe", `MEMBERSHIPS_DEMO="maybe": --demo takes a bool: invalid syntax`},
		{[]string{"serve", "--db", db}, "MEMBERSHIPS_DRAIN", "soon", `MEMBERSHIPS_DRAIN="soon": --drain takes a duration`},
		{[]string{"serve", "--db", db}, "MEMBERSHIPS_MAX_INFLIGHT", "many", `MEMBERSHIPS_MAX_INFLIGHT="many": --max-inflight takes a int: invalid syntax`},
		{[]string{"seed", "--db", db}, "MEMBERSHIPS_SEED_SEED", "-1", `MEMBERSHIPS_SEED_SEED="-1": --seed takes a uint64: invalid syntax`},
		{[]string{"migrate"}, "MEMBERSHIPS_DB_MMAP", "1GB", `MEMBERSHIPS_DB_MMAP="1GB": --db-mmap takes a size`},
		// Values that parse but are out of range name the variable too.
		{[]string{"migrate", "--db", db}, "MEMBERSHIPS_DB_MAX_CONNS", "0", `--db-max-conns (from MEMBERSHIPS_DB_MAX_CONNS): 0 is not a positive number`},
		{[]string{"serve", "--db", db}, "MEMBERSHIPS_LIMIT_SESSION", "-1", `--limit-session (from MEMBERSHIPS_LIMIT_SESSION): -1 is less than 0`},
		{[]string{"serve", "--db", db}, "MEMBERSHIPS_TRUSTED_PROXIES", "10.0.0.0/8,bogus", `--trusted-proxies (from MEMBERSHIPS_TRUSTED_PROXIES): trusted proxy 2 "bogus"`},
		{[]string{"token", "--db", db, "--user", "u"}, "MEMBERSHIPS_EXPIRES_IN", "0s", `--expires-in (from MEMBERSHIPS_EXPIRES_IN): 0s is not a positive duration`},
		{[]string{"seed", "--db", db}, "MEMBERSHIPS_SEED_CHUNK", "0", `--chunk (from MEMBERSHIPS_SEED_CHUNK): 0 is less than 1`},
	} {
		getenv := func(k string) string {
			if k == tc.variable {
				return tc.value
			}
			return ""
		}
		var out, errOut bytes.Buffer
		code := Run(context.Background(), tc.args, getenv, &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v with %s=%s: exit %d %q, want 2 containing %q", tc.args, tc.variable, tc.value, code, errOut.String(), tc.want)
		}
	}
	// The same value on the command line is no error when the flag is given.
	getenv := func(k string) string {
		if k == "MEMBERSHIPS_DB_MAX_CONNS" {
			return "0"
		}
		return ""
	}
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"migrate", "--db", db, "--db-max-conns", "3"}, getenv, &out, &errOut); code != 0 {
		t.Errorf("--db-max-conns 3 with MEMBERSHIPS_DB_MAX_CONNS=0: exit %d %s", code, errOut.String())
	}
}

// TestExitCodeByType maps each kind of error, however wrapped, to its code.
func TestExitCodeByType(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("outer: %w", err) }
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, exitOK},
		{errors.New("disk full"), exitError},
		{wrap(usagef("--x: bad")), exitUsage},
		{wrap(invalidData(errors.New("deployments[0].mode: sideways"))), exitData},
		{fmt.Errorf("deployments[1].hosts: %w", domain.ErrConflict), exitData},
		{fmt.Errorf("user %q: %w", "ghost", domain.ErrNotFound), exitNotFound},
		{wrap(unavailable(errors.New("connection refused"))), exitUnavailable},
		// The database's own ErrNotFound under an unavailable store is still unavailable.
		{unavailable(fmt.Errorf("x: %w", domain.ErrNotFound)), exitUnavailable},
		{&client.APIError{Status: 401, Code: 1101}, exitRejected},
		{&client.APIError{Status: 500, Code: 1900}, exitRejected},
		{&client.APIError{Status: 503, RetryAfter: time.Second}, exitUnavailable},
		{&client.APIError{Status: 429, RetryAfter: time.Second}, exitUnavailable},
		{&url.Error{Op: "Get", URL: "http://127.0.0.1:1", Err: errors.New("connection refused")}, exitUnavailable},
	} {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

// TestExitCodes runs commands that fail each way.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nope"}, exitUsage, `unknown command "nope" for "memberships"`},
		{[]string{"serv"}, exitUsage, "Did you mean this?\n\tserve"},
		{[]string{"migrate", "extra"}, exitUsage, `unknown command "extra"`},
		{[]string{"load"}, exitUsage, "accepts 1 arg(s), received 0"},
		{[]string{"serve", "--demo=maybe"}, exitUsage, `invalid argument "maybe" for "--demo"`},
		{[]string{"load", "--db", db, filepath.Join(dir, "missing.yaml")}, exitError, "no such file"},
		{[]string{"migrate", "--db", filepath.Join(dir, "no", "such", "dir.db")}, exitUnavailable, "sqlite: open"},
		{[]string{"migrate", "--db", "postgres://nobody@127.0.0.1:1/db", "--db-connect-timeout", "2s"}, exitUnavailable, "connect to postgres://nobody@127.0.0.1:1/db"},
		{[]string{"list", "--url", "http://127.0.0.1:1", "--session", "x"}, exitUnavailable, "connect"},
		{[]string{"token", "--db", db, "--host", "nowhere.test", "--user", "u"}, exitNotFound, `deployment "nowhere.test"`},
	} {
		code, _, stderr := run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %d containing %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if code, out, _ := run(t); code != 0 || !strings.Contains(out, "Exit codes:") {
		t.Errorf("memberships without a command: exit %d, help without exit codes:\n%s", code, out)
	}
}
