package server

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
)

// A browser keeps the refreshed cookie on every host of a deployment: on a
// host inside the cookie domain it is the domain cookie, replacing a
// host-only one; on a host outside it (a second domain), the host's own.
func TestSessionCookiesEveryHost(t *testing.T) {
	d := domain.Deployment{CookieDomain: "example.com"}
	tok := auth.Token{Value: "new", ValidFor: time.Hour, ValidUntil: time.Now().Add(time.Hour)}
	for _, host := range []string{"api.example.com", "example.com", "example.org", "notexample.com"} {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		u := &url.URL{Scheme: "https", Host: host, Path: "/"}
		jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "old", Path: "/"}})
		set := (&http.Response{Header: http.Header{"Set-Cookie": sessionCookies(d, host, tok)}}).Cookies()
		jar.SetCookies(u, set)
		got := jar.Cookies(u)
		if len(got) != 1 || got[0].Value != "new" {
			t.Errorf("%s: the browser holds %v after %v", host, got, set)
		}
	}
}
