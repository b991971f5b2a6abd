// Package e2e drives the server with a real browser: headless Chromium,
// through the DevTools protocol (chromedp).
package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/wachtbench/memberships/internal/demo"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/server"
)

// chromium finds a Chromium to drive. Where there is none the test skips,
// except in CI (CI=true), where a missing browser is a failure: .ci/run
// installs it (scripts/install-chromium.sh).
func chromium(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("MEMBERSHIPS_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"}
	for _, name := range candidates {
		if name == "" {
			continue
		}
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "headless Chromium not found: run scripts/install-chromium.sh (Debian: apt-get install chromium) or set MEMBERSHIPS_CHROMIUM"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless Chromium with a fresh profile; the returned
// context drives one tab until the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromium(t), err)
	}
	return ctx
}

// pageServer serves the switcher page (testdata/app.html) from its own origin.
func pageServer(t *testing.T) *httptest.Server {
	t.Helper()
	page, err := os.ReadFile("testdata/app.html")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// screenshot saves a PNG of the page into MEMBERSHIPS_SCREENSHOTS (a
// directory, for a person to look at) or the test's temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("MEMBERSHIPS_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// load opens the switcher page and waits until it has loaded the memberships
// or failed; it returns the page's state and error text.
func load(t *testing.T, ctx context.Context, url string) (state, errText string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS(`body[data-state]`))); err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.state`))
	if err != nil {
		t.Fatal(err)
	}
	errText, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("error").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	return state, errText
}

// The browser SDK's situation: a page on one origin fetches the API on
// another with credentials. Only a listed origin may read the answer.
//
// The page and the API are sibling origins of one site (localhost, ports
// apart), like app.example.com and api.example.com: the session cookie is
// SameSite=Lax, which a same-site fetch carries. A page on another site
// (127.0.0.1) would need a SameSite=None; Secure cookie — Chrome stores one
// for http://localhost, a secure context — and third-party cookies, which
// Chromium blocks by default: there the listed origin reads the API's 401
// envelope (the grant is on errors too) but gets no memberships.
func TestBrowserSwitcher(t *testing.T) {
	ctx := browser(t)
	listed, unlisted, crossSite := pageServer(t), pageServer(t), pageServer(t)
	onLocalhost := func(u string) string { return strings.Replace(u, "127.0.0.1", demo.Host, 1) }

	apiURL, token := demoAPI(t, onLocalhost(listed.URL), crossSite.URL)

	yes := true
	_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: "__session", Value: token, URL: apiURL, Path: "/",
		HTTPOnly: &yes, SameSite: network.CookieSameSiteLax,
	})
	if err != nil {
		t.Fatalf("setting the session cookie: %v", err)
	}

	t.Run("listed origin", func(t *testing.T) {
		state, errText := load(t, ctx, onLocalhost(listed.URL)+"/?api="+apiURL)
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]map[string]string](`Array.from(document.querySelectorAll("li")).map(li => ({
			workspace: li.firstChild.textContent,
			organization: li.closest("ul").previousElementSibling.textContent,
			class: li.className,
			title: li.title,
			color: getComputedStyle(li).color,
		}))`))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "switcher-listed-origin")
		if state != "loaded" {
			t.Fatalf("page state %q: %s", state, errText)
		}
		want := []map[string]string{
			{"workspace": "Intranet", "organization": "Globex", "class": ""},
			{"workspace": "Vault", "organization": "Globex", "class": "restricted",
				"title": "You must connect from an allowed IP address and set up Multi-Factor Authentication to access this workspace."},
			{"workspace": "General", "organization": "Acme Corp", "class": ""},
			{"workspace": "Security", "organization": "Acme Corp", "class": "restricted",
				"title": "You must set up Multi-Factor Authentication to access this workspace."},
			{"workspace": "Finance", "organization": "Acme Corp", "class": "restricted",
				"title": "You must connect from an allowed IP address to access this workspace."},
			{"workspace": "Platform Admin", "organization": "Acme Corp", "class": ""},
		}
		if len(rows) != len(want) {
			t.Fatalf("%d rows, want %d: %v", len(rows), len(want), rows)
		}
		for i, w := range want {
			got := rows[i]
			if got["workspace"] != w["workspace"] || got["organization"] != w["organization"] ||
				got["class"] != w["class"] || got["title"] != w["title"] {
				t.Errorf("row %d: %v, want %v", i, got, w)
			}
			greyed := got["color"] == "rgb(153, 153, 153)"
			if greyed != (w["class"] == "restricted") {
				t.Errorf("row %d (%s): color %s", i, got["workspace"], got["color"])
			}
		}
	})

	t.Run("unlisted origin", func(t *testing.T) {
		state, errText := load(t, ctx, onLocalhost(unlisted.URL)+"/?api="+apiURL)
		screenshot(t, ctx, "switcher-unlisted-origin")
		// The browser withholds the answer: fetch rejects with a TypeError,
		// so not even the error envelope is readable.
		if state != "failed" || !strings.Contains(errText, "Failed to fetch") {
			t.Errorf("page state %q, error %q; want the fetch to fail", state, errText)
		}
	})

	t.Run("listed origin on another site", func(t *testing.T) {
		state, errText := load(t, ctx, crossSite.URL+"/?api="+apiURL)
		t.Logf("cross-site page: %s %s", state, errText)
		// Loaded where the browser sends third-party cookies; otherwise the
		// API's own 401 message, readable thanks to the grant.
		if state != "loaded" && !strings.Contains(errText, "Session token is missing") {
			t.Errorf("page state %q, error %q; want the API's answer", state, errText)
		}
	})

	t.Run("docs", func(t *testing.T) {
		err := chromedp.Do(ctx,
			chromedp.Navigate(apiURL+"/docs"),
			chromedp.WaitVisible(chromedp.CSS(`tr.response[data-code="500"]`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		paths, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".opblock-summary-path")).map(e => e.textContent.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tr.response")).map(e => e.dataset.code)`))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "docs")
		if !slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, "/me/workspace-memberships") }) {
			t.Errorf("operations shown: %q", paths)
		}
		for _, c := range []string{"200", "400", "401", "404", "500"} {
			if !slices.Contains(codes, c) {
				t.Errorf("response %s not shown (shown: %q)", c, codes)
			}
		}
	})
}

// demoAPI serves the demo data set, with origins also allowed, named by
// demo.Host on loopback; it returns the API's URL and the demo user's token.
func demoAPI(t *testing.T, origins ...string) (apiURL, token string) {
	t.Helper()
	st, err := demo.Open(context.Background(), t.TempDir(), func(ds *domain.Dataset) {
		ds.Deployments[0].AllowedOrigins = append(ds.Deployments[0].AllowedOrigins, origins...)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if token, err = demo.Token(context.Background(), st, demo.Host, demo.User); err != nil {
		t.Fatal(err)
	}
	h, err := server.New(server.Config{}, st)
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(h)
	t.Cleanup(api.Close)
	return strings.Replace(api.URL, "127.0.0.1", demo.Host, 1), token
}
