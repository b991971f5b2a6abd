package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wachtbench/memberships/examples"
	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/internal/loadfile"
	"github.com/wachtbench/memberships/internal/store"
	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

// run executes the command line and returns exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, noEnv, &out, &errOut)
	return code, out.String(), errOut.String()
}

// startServer runs `serve` on a free port until the test ends, and returns
// its URL.
func startServer(t *testing.T, db string, flags ...string) string {
	url, _ := startServerOutput(t, db, flags...)
	return url
}

// startServerOutput is startServer, also returning what serve printed.
func startServerOutput(t *testing.T, db string, flags ...string) (string, string) {
	t.Helper()
	return startServerEnv(t, noEnv, db, flags...)
}

// startServerEnv is startServerOutput with the environment getenv.
func startServerEnv(t *testing.T, getenv func(string) string, db string, flags ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	args := append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, flags...)
	go func() { done <- Run(ctx, args, getenv, &out, &errOut) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, errOut.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	re := regexp.MustCompile(`serving (http://[0-9.:]+)/`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "/metrics\n") {
			return m[1], out.String()
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errOut.String())
		default:
		}
	}
	t.Fatalf("serve did not start: %s %s", out.String(), errOut.String())
	return "", ""
}

// With --metrics-addr, /metrics answers there and not on the API listener,
// which every customer's domain reaches.
func TestMetricsAddr(t *testing.T) {
	url, out := startServerOutput(t, filepath.Join(t.TempDir(), "m.db"), "--metrics-addr", "127.0.0.1:0")
	m := regexp.MustCompile(`(http://[0-9.:]+)/metrics`).FindStringSubmatch(out)
	if m == nil || m[1] == url {
		t.Fatalf("serve did not print a metrics address of its own: %s", out)
	}
	status := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := status(m[1] + "/metrics"); code != 200 || !strings.Contains(body, "memberships_inflight_requests") {
		t.Errorf("metrics listener: %d %.200s", code, body)
	}
	if code, _ := status(url + "/metrics"); code != 404 {
		t.Errorf("API listener /metrics: %d, want 404", code)
	}
	if code, _ := status(url + "/healthz"); code != 200 {
		t.Errorf("API listener /healthz: %d", code)
	}
}

func TestServeTokenList(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testServeTokenList(t, filepath.Join(t.TempDir(), "demo.db")) })
	t.Run("postgres", func(t *testing.T) { testServeTokenList(t, pgtest.URL(t)) })
}

func testServeTokenList(t *testing.T, db string) {
	transport = contracttest.Transport(t, nil)
	url := startServer(t, db, "--demo")

	code, tok, stderr := run(t, "token", "--db", db, "--user", "demo@example.com")
	if code != 0 {
		t.Fatalf("token: %d %s", code, stderr)
	}
	tok = strings.TrimSpace(tok)
	url = strings.Replace(url, "127.0.0.1", "localhost", 1) // the demo deployment's primary host

	code, out, stderr := run(t, "list", "--url", url, "--session", tok)
	if code != 0 {
		t.Fatalf("list: %d %s", code, stderr)
	}
	for _, want := range []string{"WORKSPACE", "ORGANIZATION", "RESTRICTED ip_not_allowed", "RESTRICTED mfa_required", "RESTRICTED ip_and_mfa_required", " ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = run(t, "list", "--url", url, "--session", tok, "--output", "json")
	var answer struct {
		Data []struct {
			OrganizationID string `json:"organization_id"`
		} `json:"data"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &answer) != nil || len(answer.Data) == 0 {
		t.Fatalf("list json: %d %s", code, out)
	}

	org := answer.Data[0].OrganizationID
	code, out, _ = run(t, "list", "--url", url, "--session", tok, "--output", "json", "--org", org)
	if code != 0 || !strings.Contains(out, org) {
		t.Fatalf("list --org: %d %s", code, out)
	}

	code, _, stderr = run(t, "list", "--url", url, "--session", "garbage")
	if code != exitRejected || !strings.Contains(stderr, "Session token is invalid") || !strings.Contains(stderr, "1101") {
		t.Errorf("bad session: %d %q", code, stderr)
	}
	code, _, stderr = run(t, "list", "--url", url, "--session", tok, "--org", "x")
	if code != exitRejected || !strings.Contains(stderr, "org_id") {
		t.Errorf("bad org: %d %q", code, stderr)
	}
}

// TestNoDemoUnasked: serve fills an empty database with the demo data set
// only when asked, whatever the store.
func TestNoDemoUnasked(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testNoDemoUnasked(t, filepath.Join(t.TempDir(), "prod.db")) })
	t.Run("postgres", func(t *testing.T) { testNoDemoUnasked(t, pgtest.URL(t)) })
}

func testNoDemoUnasked(t *testing.T, db string) {
	transport = contracttest.Transport(t, nil)
	url := startServer(t, db)
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if empty, err := st.Empty(context.Background()); err != nil || !empty {
		t.Errorf("after serve without --demo: empty %v, %v; want an empty database", empty, err)
	}
	code, _, stderr := run(t, "list", "--url", strings.Replace(url, "127.0.0.1", "localhost", 1), "--session", "x")
	if code != exitRejected || !strings.Contains(stderr, "1200") {
		t.Errorf("the demo host answers without --demo: %d %q", code, stderr)
	}
}

// TestDemoLoadedOnce starts several `serve --demo` on one empty PostgreSQL at
// once: every one starts and the demo data set is there exactly once.
func TestDemoLoadedOnce(t *testing.T) {
	db := pgtest.URL(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { startServer(t, db, "--demo") })
	}
	wg.Wait()
	var deployments, users int
	if err := storetest.RawDB(t, db).QueryRow(`SELECT (SELECT count(*) FROM deployments), (SELECT count(*) FROM users)`).Scan(&deployments, &users); err != nil {
		t.Fatal(err)
	}
	ds, err := loadfile.Parse("examples/demo.yaml", examples.Demo, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if deployments != len(ds.Deployments) || users != len(ds.Users) {
		t.Errorf("%d deployments, %d users after 4 concurrent starts; want the demo's %d and %d once", deployments, users, len(ds.Deployments), len(ds.Users))
	}
}

func TestLoadAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "load.db")
	if code, _, stderr := run(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	if code, _, stderr := run(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate again: %s", stderr)
	}
	good := filepath.Join(dir, "good.yaml")
	write(t, good, `deployments:
  - hosts: [one.test]
    mode: production
    users: [{email: a@one.test}]
`)
	code, out, stderr := run(t, "load", "--db", db, good)
	if code != 0 || !strings.Contains(out, "loaded 1 deployments") {
		t.Fatalf("load: %d %s %s", code, out, stderr)
	}
	// The second deployment is new, the first claims a host already taken:
	// nothing of the file may stay.
	bad := filepath.Join(dir, "bad.yaml")
	write(t, bad, `deployments:
  - hosts: [two.test]
    mode: production
  - hosts: [one.test]
    mode: staging
`)
	code, _, stderr = run(t, "load", "--db", db, bad)
	if code != exitData || !strings.Contains(stderr, "deployments[1]") || !strings.Contains(stderr, "nothing loaded") {
		t.Fatalf("conflicting load: %d %q", code, stderr)
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DeploymentByHost(context.Background(), "two.test"); err == nil {
		t.Error("a failed load left a deployment behind")
	}

	invalid := filepath.Join(dir, "invalid.yaml")
	write(t, invalid, "deployments:\n  - hosts: [three.test]\n    mode: sideways\n")
	code, _, stderr = run(t, "load", "--db", db, invalid)
	if code != exitData || !strings.Contains(stderr, "deployments[0].mode") {
		t.Errorf("invalid file: %d %q", code, stderr)
	}

	// Too large: refused after reading one byte past the limit.
	huge := filepath.Join(dir, "huge.yaml")
	write(t, huge, "deployments: [{hosts: [four.test], users: [{email: a@four.test, first_name: "+strings.Repeat("x", 64<<20)+"}]}]\n")
	code, _, stderr = run(t, "load", "--db", db, huge)
	if code != exitData || !strings.Contains(stderr, "huge.yaml: larger than the limit of 8388608 bytes (8 MiB)") {
		t.Errorf("file too large: %d %q", code, stderr)
	}
	if _, err := st.DeploymentByHost(context.Background(), "four.test"); err == nil {
		t.Error("a refused file left a deployment behind")
	}
	code, _, stderr = run(t, "load", "--db", db, filepath.Join(dir, "missing.yaml"))
	if code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: %d %q", code, stderr)
	}
}

// A file whose host falls under the cookie_domain of a deployment loaded
// before is refused whole, naming the entry and the domain.
func TestLoadCookieDomainOfAnotherDeployment(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "load.db")
	first := filepath.Join(dir, "first.yaml")
	write(t, first, "deployments:\n  - {hosts: [api.a.probe.test], cookie_domain: probe.test}\n")
	if code, out, stderr := run(t, "load", "--db", db, first); code != 0 {
		t.Fatalf("load: %d %s %s", code, out, stderr)
	}
	second := filepath.Join(dir, "second.yaml")
	write(t, second, "deployments:\n  - {hosts: [new.test]}\n  - {hosts: [API.B.probe.test.]}\n")
	code, _, stderr := run(t, "load", "--db", db, second)
	if code != 3 || !strings.Contains(stderr, "nothing loaded") ||
		!strings.Contains(stderr, `deployments[1].hosts[0]: "api.b.probe.test" is under the cookie_domain "probe.test"`) {
		t.Fatalf("load under another deployment's cookie domain: %d %q", code, stderr)
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DeploymentByHost(context.Background(), "new.test"); err == nil {
		t.Error("a refused load left a deployment behind")
	}
}

func TestUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--db", db, "--trusted-proxies", "10.0.0.0/8,bogus"}, 2, "--trusted-proxies"},
		{[]string{"serve", "--db", db, "--log-format", "xml"}, 2, "--log-format"},
		{[]string{"serve", "--db", db, "--demo=maybe"}, 2, "--demo"},
		{[]string{"serve", "--db", db, "--addr", "256.0.0.1:99999"}, 2, "--addr"},
		{[]string{"serve", "--db", db, "--fragment-cache", "0"}, 2, "--fragment-cache"},
		{[]string{"token", "--db", db}, 2, "--user"},
		{[]string{"token", "--db", db, "--user", "x@y", "--expires-in", "soon"}, 2, "--expires-in"},
		{[]string{"list", "--session", "x"}, 2, "--url"},
		{[]string{"migrate", "--db", db, "--db-max-conns", "0"}, 2, "--db-max-conns"},
		{[]string{"migrate", "--db", db, "--db-connect-timeout", "soon"}, 2, "--db-connect-timeout"},
		{[]string{"migrate", "--db", db, "--db-statement-timeout", "-1s"}, 2, "--db-statement-timeout"},
		{[]string{"migrate", "--db", db, "--db-read-check", "0s"}, 2, "--db-read-check"},
		{[]string{"serve", "--db", db, "--db-read-max-lag", "-1s"}, 2, "--db-read-max-lag"},
		{[]string{"serve", "--db", db, "--db-read-max-lag", "soon"}, 2, "--db-read-max-lag"},
		{[]string{"serve", "--db", db, "--db-read", "postgres://replica.invalid/db"}, 2, "needs a PostgreSQL --db"},
		{[]string{"serve", "--db", "postgres://primary.invalid/db", "--db-read", "replica.db"}, 2, "--db-read"},
		{[]string{"migrate", "--db", db, "--db-mmap", "1GB"}, 2, "--db-mmap"},
		{[]string{"migrate", "--db", db, "--db-mmap", "2GiB"}, 2, "--db-mmap"},
		{[]string{"serve", "--db", db, "--db-mmap", "-1"}, 2, "--db-mmap"},
		{[]string{"token", "--db", db, "--user", "x@y", "--db-mmap", "lots"}, 2, "--db-mmap"},
		{[]string{"migrate", "--db", "postgres://primary.invalid/db", "--db-mmap", "1.5GiB"}, 2, "--db-mmap"},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"serve", "--bogus"}, 2, "bogus"},
		{[]string{"serve", "--db", db, "--max-inflight", "-1"}, 2, "--max-inflight"},
		{[]string{"serve", "--db", db, "--limit-failures", "many"}, 2, "--limit-failures"},
		{[]string{"serve", "--db", db, "--limit-session", "1.5"}, 2, "--limit-session"},
		{[]string{"serve", "--db", db, "--validate-responses", "strict"}, 2, "--validate-responses"},
		{[]string{"serve", "--db", db, "--otlp-endpoint", "collector:4318"}, 2, "--otlp-endpoint"},
	} {
		code, _, stderr := run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %d containing %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	// Unknown user of a known deployment: an error naming it.
	if code, _, stderr := run(t, "load", "--db", db, "../../examples/demo.yaml"); code != 0 {
		t.Fatalf("load: %s", stderr)
	}
	code, _, stderr := run(t, "token", "--db", db, "--user", "ghost@example.com")
	if code != exitNotFound || !strings.Contains(stderr, "ghost@example.com") {
		t.Errorf("unknown user: %d %q", code, stderr)
	}
}

func TestMMapSize(t *testing.T) {
	for in, want := range map[string]int64{
		defaultMMap: store.DefaultMMapSize, "0": store.NoMMap, "0GiB": store.NoMMap, "256MiB": 256 << 20, "64KiB": 64 << 10,
		"4096": 4096, "2047MiB": 2047 << 20, "2147418112": store.MaxMMapSize,
	} {
		if got, err := mmapSize(in); err != nil || got != want {
			t.Errorf("mmapSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "1GB", "1G", "1 GiB", "1gib", "1.5GiB", "-1", "+1MiB", "2GiB", "2147418113", "99999999999999999999"} {
		if got, err := mmapSize(in); err == nil {
			t.Errorf("mmapSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestAnswerCacheSize(t *testing.T) {
	for in, want := range map[string]int64{"0": -1, "64MiB": 64 << 20, "1GiB": 1 << 30, "1024GiB": 1 << 40} {
		if got, err := answerCacheSize(in); err != nil || got != want {
			t.Errorf("answerCacheSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "64MB", "1025GiB"} {
		if got, err := answerCacheSize(in); err == nil {
			t.Errorf("answerCacheSize(%q) = %d, want an error", in, got)
		}
	}
}

// With --db-mmap 0 the server maps no page of its file, so another program
// truncating it in place costs an error or the answer a connection had
// cached, not the process (with the map: a SIGBUS). The test checks the file
// is not mapped before truncating it, so a map it did not ask for fails it
// instead of crashing the test binary.
func TestServeWithoutMMapSurvivesTruncation(t *testing.T) {
	transport = contracttest.Transport(t, nil)
	db := filepath.Join(t.TempDir(), "demo.db")
	url := strings.Replace(startServer(t, db, "--demo", "--db-mmap", "0"), "127.0.0.1", "localhost", 1)
	code, tok, stderr := run(t, "token", "--db", db, "--db-mmap", "0", "--user", "demo@example.com")
	if code != 0 {
		t.Fatalf("token: %d %s", code, stderr)
	}
	list := func() (int, string) {
		code, _, stderr := run(t, "list", "--url", url, "--session", strings.TrimSpace(tok))
		return code, stderr
	}
	// The pages into the database file, then read from there.
	if _, err := storetest.RawDB(t, db).Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	if code, stderr := list(); code != 0 {
		t.Fatalf("list: %d %s", code, stderr)
	}
	if storetest.Mapped(t, db) {
		t.Fatal("serve --db-mmap 0 maps the database file")
	}
	if err := os.Truncate(db, 2*4096); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if code, stderr := list(); code != 0 && !strings.Contains(stderr, "1900") {
			t.Errorf("list after truncation: %d %q; want the cached answer or an internal error", code, stderr)
		} else {
			t.Logf("list after truncation: exit %d %s", code, strings.TrimSpace(stderr))
		}
	}
}

func TestEnvironmentFallback(t *testing.T) {
	db := filepath.Join(t.TempDir(), "env.db")
	getenv := func(k string) string {
		if k == "MEMBERSHIPS_DB" {
			return db
		}
		return ""
	}
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"migrate"}, getenv, &out, &errOut); code != 0 || !strings.Contains(out.String(), db) {
		t.Fatalf("%d %s %s", code, out.String(), errOut.String())
	}
	out.Reset()
	Run(context.Background(), []string{"serve", "--help"}, getenv, &out, &errOut)
	for _, want := range []string{"MEMBERSHIPS_ADDR", "MEMBERSHIPS_DB", "MEMBERSHIPS_TRUSTED_PROXIES", "MEMBERSHIPS_DEMO", "127.0.0.1:8080",
		"MEMBERSHIPS_MAX_INFLIGHT", "MEMBERSHIPS_LIMIT_FAILURES", "MEMBERSHIPS_LIMIT_SESSION",
		"MEMBERSHIPS_METRICS_ADDR", "MEMBERSHIPS_VALIDATE_RESPONSES", "production=off,staging=log", "MEMBERSHIPS_DB_MMAP", "(default 1GiB)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	errOut.Reset()
	badMMap := func(k string) string {
		if k == "MEMBERSHIPS_DB_MMAP" {
			return "lots"
		}
		return getenv(k)
	}
	if code := Run(context.Background(), []string{"migrate"}, badMMap, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `MEMBERSHIPS_DB_MMAP="lots": --db-mmap takes a size`) {
		t.Errorf("MEMBERSHIPS_DB_MMAP=lots: %d %q", code, errOut.String())
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// With a key-encryption key, the database holds no usable signing key: a
// token can be minted only with the key set.
func TestSealedSigningKeys(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sealed.db")
	kek := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	withKey := func(k string) string {
		if k == keyEncryptionKeyEnv {
			return kek
		}
		return ""
	}
	file := filepath.Join(dir, "d.yaml")
	write(t, file, "deployments:\n  - hosts: [s.test]\n    users: [{email: a@s.test}]\n")
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"load", "--db", db, file}, withKey, &out, &errOut); code != 0 {
		t.Fatalf("load: %s", errOut.String())
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(db + "-wal"); err == nil {
		raw = append(raw, wal...)
	}
	if bytes.Contains(raw, []byte("PRIVATE KEY")) || !bytes.Contains(raw, []byte("sealed:v1:")) {
		t.Error("the database holds a plain private key")
	}
	if code := Run(context.Background(), []string{"token", "--db", db, "--host", "s.test", "--user", "a@s.test"}, withKey, &out, &errOut); code != 0 {
		t.Fatalf("token with the key: %s", errOut.String())
	}
	code, _, stderr := run(t, "token", "--db", db, "--host", "s.test", "--user", "a@s.test")
	if code != 1 || !strings.Contains(stderr, keyEncryptionKeyEnv) {
		t.Errorf("token without the key: %d %q", code, stderr)
	}
	// Keys stored before the variable was set are sealed on the next start.
	plain := filepath.Join(dir, "plain.db")
	if code, _, stderr := run(t, "load", "--db", plain, file); code != 0 {
		t.Fatalf("load without the key: %s", stderr)
	}
	if code := Run(context.Background(), []string{"migrate", "--db", plain}, withKey, &out, &errOut); code != 0 {
		t.Fatalf("migrate with the key: %s", errOut.String())
	}
	if code, _, stderr := run(t, "token", "--db", plain, "--host", "s.test", "--user", "a@s.test"); code != 1 || !strings.Contains(stderr, keyEncryptionKeyEnv) {
		t.Errorf("the key stored before was not sealed: %d %q", code, stderr)
	}
	bad := func(k string) string {
		if k == keyEncryptionKeyEnv {
			return "short"
		}
		return ""
	}
	errOut.Reset()
	if code := Run(context.Background(), []string{"migrate", "--db", db}, bad, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), keyEncryptionKeyEnv) {
		t.Errorf("bad key: %d %q", code, errOut.String())
	}
}
