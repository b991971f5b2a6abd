//go:build topology

package topology

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/ids"
)

// dataset is what these tests serve: a production deployment whose user has
// three memberships, one of them (Office) allowed only from 127.0.0.2.
const dataset = `deployments:
  - hosts: [topology.test]
    mode: production
    ip_allowlist_per_workspace_enabled: true
    users: [{email: ada@topology.test}]
    organizations:
      - name: Org
        workspaces:
          - {name: Office, enable_ip_restriction: true, whitelisted_ips: [127.0.0.2], members: [{user: ada@topology.test}]}
          - {name: Lab, members: [{user: ada@topology.test}]}
          - {name: Open, members: [{id: "4001", user: ada@topology.test}]}
`

// The dataset's host, user, and the membership the tests change.
const (
	host         = "topology.test"
	user         = "ada@topology.test"
	membershipID = 4001
)

// sessionToken creates a session of user on st and returns its token, which
// expired an hour ago when expired is set (the next request refreshes it).
func sessionToken(t *testing.T, st domain.Store, expired bool) string {
	t.Helper()
	ctx := context.Background()
	d, err := st.DeploymentByHost(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.FindUser(ctx, d.ID, user)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := st.SigningKey(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := domain.NewSession{DeploymentID: d.ID, UserID: u.ID, SessionID: ids.New(), SignInID: ids.New(), RotatingTokenID: ids.New(),
		CreatedAt: now, SignInExpiresAt: now.Add(time.Hour), TokenValidUntil: now.Add(time.Hour)}
	if err := st.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if expired {
		now = now.Add(-2 * time.Hour)
	}
	tok, err := auth.Sign(key, auth.Issuer(d.Host), s.SessionID, s.RotatingTokenID, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// answer is what a GET of the memberships gave.
type answer struct {
	status  int
	data    []json.RawMessage
	code    int    // the error envelope's code
	session string // a refreshed token handed back in Set-Cookie
}

// client calls the API on url, with every response checked against the contract.
type client struct {
	t   *testing.T
	url string
	c   *http.Client
}

func newClient(t *testing.T, url string, base http.RoundTripper) client {
	return client{t, url, &http.Client{Transport: contracttest.Transport(t, base), Timeout: 10 * time.Second}}
}

// get calls GET /me/workspace-memberships with the token, and extra headers
// as name, value pairs; a transport error is status 0.
func (c client) get(token string, header ...string) answer {
	req, err := http.NewRequest(http.MethodGet, c.url+"/me/workspace-memberships", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Host = host
	req.AddCookie(&http.Cookie{Name: "__session", Value: token})
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return answer{}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var a struct {
		Data   []json.RawMessage `json:"data"`
		Errors []struct {
			Code int `json:"code"`
		} `json:"errors"`
	}
	json.Unmarshal(body, &a)
	out := answer{status: resp.StatusCode, data: a.Data}
	if len(a.Errors) > 0 {
		out.code = a.Errors[0].Code
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "__session" {
			out.session = ck.Value
		}
	}
	return out
}
