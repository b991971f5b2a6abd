package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/demo"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/server"
)

// testCert is a self-signed certificate for *.example.test and the base64
// SHA-256 of its public key, which Chromium is told to trust.
func testCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		DNSNames:     []string{"*.example.test", "example.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(spki)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, base64.StdEncoding.EncodeToString(sum[:])
}

// tlsServer serves h over HTTPS with cert on 127.0.0.1.
func tlsServer(t *testing.T, h http.Handler, cert tls.Certificate) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// siteBrowser starts Chromium on profile, resolving every *.example.test
// name to 127.0.0.1 and trusting the test certificate, so a page and the API
// are sibling HTTPS hosts of one site, as in production.
func siteBrowser(t *testing.T, profile, spki string) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
		chromedp.UserDataDir(profile),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	stop := func() {
		// Closed gracefully, Chromium writes its cookies to the profile.
		if err := chromedp.Cancel(ctx); err != nil {
			t.Logf("closing Chromium: %v", err)
		}
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	}
	if err := chromedp.Do(ctx); err != nil {
		stop()
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx, stop
}

// sessionCookies are the browser's __session cookies.
func sessionCookies(t *testing.T, ctx context.Context) []*network.Cookie {
	t.Helper()
	all, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*network.Cookie
	for _, c := range all.Cookies {
		if c.Name == "__session" {
			out = append(out, c)
		}
	}
	return out
}

// poll opens the polling page and waits until it has had n more answers
// than before, failing on any failed poll.
type pollPage struct {
	t   *testing.T
	ctx context.Context
	ok  int
}

func (p *pollPage) await(n int) {
	p.t.Helper()
	want := p.ok + n
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		counts, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]int](`[Number(document.body.dataset.ok), Number(document.body.dataset.failed)]`))
		if err != nil {
			p.t.Fatal(err)
		}
		if counts[1] > 0 {
			errs, _ := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`window.errors`))
			p.t.Fatalf("%d failed polls: %q", counts[1], errs)
		}
		if counts[0] >= want {
			p.ok = counts[0]
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("fewer than %d answers in 20 s", want)
}

// The setup of docs/api.md on a production deployment: the page on
// app.example.test, the API on api.example.test, one site, HTTPS, the
// session cookie for the parent domain example.test (cookie_domain). The
// page polls across a refresh and keeps working: the refreshed cookie
// replaces the one the browser holds — the same name, path and domain —
// instead of joining it. The cookie is persistent, so after a browser
// restart (the same profile, session cookies gone) polling still works.
func TestBrowserSessionSurvivesRefreshAndRestart(t *testing.T) {
	chromium(t)
	cert, spki := testCert(t)
	page, err := os.ReadFile("testdata/poll.html")
	if err != nil {
		t.Fatal(err)
	}
	pages := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}), cert)
	pageURL := strings.Replace(pages.URL, "127.0.0.1", "app.example.test", 1)

	const apiHost = "api.example.test"
	st, err := demo.Open(context.Background(), t.TempDir(), func(ds *domain.Dataset) {
		d := &ds.Deployments[0]
		d.Hosts, d.Mode, d.CookieDomain = []string{apiHost}, domain.ModeProduction, "example.test"
		d.AllowedOrigins = []string{pageURL}
		// The demo's other deployment leaves example.test: the cookie
		// domain would cover its host, which a load refuses.
		other := &ds.Deployments[1]
		other.Hosts, other.CookieDomain = []string{"prod.example.org"}, "prod.example.org"
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var skew atomic.Int64 // the server's clock runs ahead by this much
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	h, err := server.New(server.Config{Now: now}, st)
	if err != nil {
		t.Fatal(err)
	}
	apiURL := strings.Replace(tlsServer(t, h, cert).URL, "127.0.0.1", apiHost, 1)
	token, err := demo.Token(context.Background(), st, apiHost, demo.User)
	if err != nil {
		t.Fatal(err)
	}

	profile := t.TempDir()
	ctx, stop := siteBrowser(t, profile, spki)
	// As the sign-in would have left it: a persistent domain cookie.
	yes := true
	signIn := time.Now().Add(24 * time.Hour)
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: "__session", Value: token, Domain: ".example.test", Path: "/",
		Secure: &yes, HTTPOnly: &yes, SameSite: network.CookieSameSiteLax, Expires: cdp.TimeSinceEpoch(signIn.Unix()),
	}); err != nil {
		t.Fatalf("setting the session cookie: %v", err)
	}
	open := func(ctx context.Context) *pollPage {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(pageURL+"/?every=150&api="+apiURL)); err != nil {
			t.Fatal(err)
		}
		return &pollPage{t: t, ctx: ctx}
	}
	p := open(ctx)
	p.await(2)

	// The token expires: the next poll refreshes it, and polling goes on —
	// past the grace window, when the old token would count as reuse.
	skew.Store(int64(auth.TokenLifetime + time.Minute))
	p.await(3)
	skew.Add(int64(auth.RefreshGrace + time.Second))
	p.await(3)
	cookies := sessionCookies(t, ctx)
	if len(cookies) != 1 {
		t.Fatalf("%d __session cookies, want one: %+v", len(cookies), cookies)
	}
	c := cookies[0]
	if c.Value == token || c.Domain != ".example.test" || c.Path != "/" || !c.HTTPOnly || !c.Secure ||
		c.SameSite != network.CookieSameSiteLax || c.Session || c.Expires < float64(time.Now().Add(24*time.Hour).Unix()) {
		t.Fatalf("after the refresh: %+v, want a new persistent cookie for .example.test", c)
	}
	refreshed := c.Value

	// A browser restart: the same profile, session cookies gone.
	stop()
	ctx, stop = siteBrowser(t, profile, spki)
	defer stop()
	p = open(ctx)
	p.await(3)
	if cookies := sessionCookies(t, ctx); len(cookies) != 1 || cookies[0].Value != refreshed {
		t.Fatalf("after the restart: %+v, want the refreshed cookie", cookies)
	}
}
