package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/wachtbench/memberships/internal/demo"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/server"
)

// tsDir is the TypeScript package (ts/), from this package's directory.
const tsDir = "../../ts"

// tsExample bundles ts/example (React, SWR, the typed client) with the
// lockfile's esbuild into a fresh directory beside its page, and returns the
// directory. Without Node or ts/node_modules (`make test` runs npm ci) the
// test skips, except in CI (CI=true), where that is a failure.
func tsExample(t *testing.T) string {
	t.Helper()
	esbuild := filepath.Join(tsDir, "node_modules", ".bin", "esbuild")
	var missing string
	if _, err := exec.LookPath("node"); err != nil {
		missing = "Node.js not found: run scripts/install-node.sh (Debian: apt-get install nodejs npm)"
	} else if _, err := os.Stat(esbuild); err != nil {
		missing = "ts/node_modules is not installed: run `make ts-check` (npm ci in ts/)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	dir := t.TempDir()
	cmd := exec.Command("node_modules/.bin/esbuild", "example/main.tsx", "--bundle", "--minify",
		"--log-level=warning", "--outfile="+filepath.Join(dir, "example.js"))
	cmd.Dir = tsDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, out)
	}
	page, err := os.ReadFile(filepath.Join(tsDir, "example", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), page, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// polls records what the API answered each GET of the memberships: the
// status, and whether it came with the cookie or the staging parameter.
type polls struct {
	mu   sync.Mutex
	seen []poll
}

type poll struct {
	status          int
	cookie, devSess bool
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (p *polls) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/me/workspace-memberships" {
			h.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		_, err := r.Cookie("__session")
		p.mu.Lock()
		p.seen = append(p.seen, poll{status: sw.status, cookie: err == nil, devSess: r.URL.Query().Has("__dev_session__")})
		p.mu.Unlock()
	})
}

// count returns how many answers had each status since the first n.
func (p *polls) count(n int) (total int, byStatus map[int]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	byStatus = map[int]int{}
	for _, s := range p.seen[min(n, len(p.seen)):] {
		byStatus[s.status]++
	}
	return len(p.seen), byStatus
}

func (p *polls) all() []poll {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]poll(nil), p.seen...)
}

// rendered is what the example shows: one line per membership,
// "organization / workspace" and, when restricted, " — message".
func rendered(t *testing.T, ctx context.Context) []string {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("li")).map(li =>
		li.closest("section").querySelector("h2").textContent + " / " + li.firstChild.textContent +
		(li.className === "restricted" ? " — " + li.title : ""))`))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func pagePolls(t *testing.T, ctx context.Context) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Number(document.body.dataset.polls || 0)`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually retries cond every 50 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; %s", what, d, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The TypeScript example (ts/example: SWR over the typed client), served on
// another origin than the API, in headless Chromium against the real server
// and SQLite: it renders the memberships with their eligibility messages;
// its next poll of the unchanged answer is a 304 at the server that the page
// still renders whole (the browser's cache answers fetch); a change written
// to the database with plain SQL shows on the poll after. Then, without the
// cookie, the staging `__dev_session__` parameter carries the session.
func TestTypeScriptExample(t *testing.T) {
	bundle := tsExample(t)
	ctx := browser(t)

	pages := httptest.NewServer(http.FileServer(http.Dir(bundle)))
	t.Cleanup(pages.Close)
	// A sibling origin of the API (localhost, another port): the session
	// cookie is SameSite=Lax, which a same-site fetch carries.
	origin := strings.Replace(pages.URL, "127.0.0.1", demo.Host, 1)

	dir := t.TempDir()
	st, err := demo.Open(context.Background(), dir, func(ds *domain.Dataset) {
		ds.Deployments[0].AllowedOrigins = append(ds.Deployments[0].AllowedOrigins, origin, pages.URL)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	token, err := demo.Token(context.Background(), st, demo.Host, demo.User)
	if err != nil {
		t.Fatal(err)
	}
	h, err := server.New(server.Config{}, st)
	if err != nil {
		t.Fatal(err)
	}
	var seen polls
	api := httptest.NewServer(seen.wrap(h))
	t.Cleanup(api.Close)
	apiURL := strings.Replace(api.URL, "127.0.0.1", demo.Host, 1)

	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: "__session", Value: token, URL: apiURL, Path: "/", SameSite: network.CookieSameSiteLax,
	}); err != nil {
		t.Fatal(err)
	}

	want := []string{
		"Globex / Intranet",
		"Globex / Vault — You must connect from an allowed IP address and set up Multi-Factor Authentication to access this workspace.",
		"Acme Corp / General",
		"Acme Corp / Security — You must set up Multi-Factor Authentication to access this workspace.",
		"Acme Corp / Finance — You must connect from an allowed IP address to access this workspace.",
		"Acme Corp / Platform Admin",
	}
	same := func(got []string) bool { return strings.Join(got, "\n") == strings.Join(want, "\n") }

	const every = 400 // ms between polls; the page's default is 30 s
	if err := chromedp.Do(ctx,
		chromedp.Navigate(origin+"/index.html?interval="+strconv.Itoa(every)+"&api="+apiURL),
		chromedp.WaitReady(chromedp.CSS(`body[data-state]`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := rendered(t, ctx); !same(got) {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("first render:\n%s\nwant:\n%s\npage: %s", strings.Join(got, "\n"), strings.Join(want, "\n"), state)
	}
	screenshot(t, ctx, "ts-example")

	// The second poll: a 304 on the wire, a success on the page, the same rows.
	eventually(t, 10*time.Second, "a second poll answered 304", func() (bool, string) {
		_, by := seen.count(0)
		n := pagePolls(t, ctx)
		return by[http.StatusNotModified] >= 1 && n >= 2, "server " + fmt.Sprint(by) + ", page polls " + strconv.Itoa(n)
	})
	if _, by := seen.count(0); by[http.StatusOK] != 1 || by[http.StatusOK]+by[http.StatusNotModified] != len(seen.all()) {
		t.Fatalf("answers %s: want one 200 and the rest 304 while nothing changed", fmt.Sprint(by))
	}
	total, by := seen.count(0)
	t.Logf("unchanged: %d polls at the server %v, %d successes on the page", total, by, pagePolls(t, ctx))
	if got := rendered(t, ctx); !same(got) {
		t.Fatalf("after the 304 the page shows:\n%s", strings.Join(got, "\n"))
	}
	for _, p := range seen.all() {
		if !p.cookie || p.devSess {
			t.Fatalf("poll %+v: want the cookie and no __dev_session__", p)
		}
	}

	// A change written to the database, as another service would.
	db, err := sql.Open("sqlite", filepath.Join(dir, "demo.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE workspaces SET name = 'Intranet (renamed)' WHERE id = 3006`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%d workspaces renamed", n)
	}
	mark, _ := seen.count(0)
	eventually(t, 10*time.Second, "the renamed workspace on the page", func() (bool, string) {
		got := rendered(t, ctx)
		return len(got) == len(want) && got[0] == "Globex / Intranet (renamed)", strings.Join(got, "; ")
	})
	_, by = seen.count(mark)
	t.Logf("after the change: %v", by)
	if by[http.StatusOK] < 1 {
		t.Fatalf("answers since the change %s: want a 200", fmt.Sprint(by))
	}
	if got := rendered(t, ctx); strings.Join(got[1:], "\n") != strings.Join(want[1:], "\n") {
		t.Fatalf("the other rows changed:\n%s", strings.Join(got, "\n"))
	}

	// Staging: no cookie, the token in the page's dev_session, which the
	// client sends as __dev_session__ (a cross-site page, 127.0.0.1, works too).
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	mark, _ = seen.count(0)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(pages.URL+"/index.html?dev_session="+token+"&api="+apiURL),
		chromedp.WaitReady(chromedp.CSS(`body[data-state]`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := rendered(t, ctx); len(got) != len(want) || got[0] != "Globex / Intranet (renamed)" {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("with __dev_session__ the page shows %q (%s)", got, text)
	}
	for _, p := range seen.all()[mark:] {
		if p.cookie || !p.devSess || p.status != http.StatusOK {
			t.Fatalf("poll %+v: want __dev_session__, no cookie, 200", p)
		}
	}
}

// TestTypeScriptBreakingChange regenerates ts/'s types from a copy of the
// contract with one field renamed, as a careless spec edit would, and proves
// the example then fails to compile, naming the field; the unchanged
// contract compiles (so the test can tell the two apart).
func TestTypeScriptBreakingChange(t *testing.T) {
	tsExample(t) // skips, or fails under CI, without Node and ts/node_modules
	spec, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const field = "eligibility_restriction:"
	if strings.Count(string(spec), field) == 0 {
		t.Fatalf("openapi.yaml has no %q to rename", field)
	}
	for _, tt := range []struct {
		name, spec string
		fails      bool
	}{
		{"unchanged", string(spec), false},
		{"field renamed", strings.ReplaceAll(string(spec), field, "restriction:"), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := compileTS(t, tt.spec)
			switch {
			case tt.fails && err == nil:
				t.Fatalf("the example compiled against a contract without %s\n%s", field, out)
			case tt.fails && !strings.Contains(out, "eligibility_restriction"):
				t.Fatalf("tsc failed without naming the field:\n%s", out)
			case !tt.fails && err != nil:
				t.Fatalf("tsc: %v\n%s", err, out)
			}
		})
	}
}

// compileTS copies ts/'s sources (its node_modules linked) into a temporary directory,
// generates its types from spec and runs tsc over the package and example.
func compileTS(t *testing.T, spec string) (string, error) {
	t.Helper()
	abs, err := filepath.Abs(tsDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "ts")
	for _, part := range []string{"src", "example", "tsconfig.json", "package.json"} {
		if err := copyPath(filepath.Join(abs, part), filepath.Join(pkg, part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(abs, "node_modules"), filepath.Join(pkg, "node_modules")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "openapi.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	gen := exec.Command("node_modules/.bin/openapi-typescript", "../openapi.yaml", "--output", "src/schema.d.ts", "--silent")
	gen.Dir = pkg
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("openapi-typescript: %v\n%s", err, out)
	}
	tsc := exec.Command("node_modules/.bin/tsc", "--noEmit", "-p", ".")
	tsc.Dir = pkg
	out, err := tsc.CombinedOutput()
	return string(out), err
}

func copyPath(from, to string) error {
	info, err := os.Stat(from)
	if err != nil {
		return err
	}
	if info.IsDir() {
		return os.CopyFS(to, os.DirFS(from))
	}
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(to), 0o755)
	}
	if err == nil {
		err = os.WriteFile(to, data, 0o644)
	}
	return err
}
