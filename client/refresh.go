package client

import (
	"net/http"
	"sync"
)

// sessionFollower keeps a client on its session across token refreshes: when
// an answer hands back a new session token (Set-Cookie on production
// deployments, X-Development-Session on staging ones) the old one must not be
// sent again — after a short grace period that counts as theft and revokes
// the session — so later requests carry the new one instead.
type sessionFollower struct {
	next  HttpRequestDoer
	mu    sync.Mutex
	token string // the latest refreshed token, "" until there is one
}

func (f *sessionFollower) Do(req *http.Request) (*http.Response, error) {
	if tok := f.current(); tok != "" {
		req = req.Clone(req.Context())
		replaceSession(req, tok)
	}
	resp, err := f.next.Do(req)
	if err == nil {
		if tok := refreshedToken(resp); tok != "" {
			f.mu.Lock()
			f.token = tok
			f.mu.Unlock()
		}
	}
	return resp, err
}

func (f *sessionFollower) current() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.token
}

// replaceSession puts tok where the request carried its session token.
func replaceSession(req *http.Request, tok string) {
	if q := req.URL.Query(); q.Has(devSessionParam) {
		q.Set(devSessionParam, tok)
		req.URL.RawQuery = q.Encode()
	}
	cookies := req.Cookies()
	req.Header.Del("Cookie")
	for _, c := range cookies {
		if c.Name == SessionCookie {
			c.Value = tok
		}
		req.AddCookie(c)
	}
}

const devSessionParam = "__dev_session__"

// refreshedToken is the new session token an answer carries, if any.
func refreshedToken(resp *http.Response) string {
	if tok := resp.Header.Get("X-Development-Session"); tok != "" {
		return tok
	}
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie && c.Value != "" {
			return c.Value
		}
	}
	return ""
}
