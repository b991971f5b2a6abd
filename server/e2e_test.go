package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wachtbench/memberships/client"
	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/server"
)

// The generated client against a real listening server: what a Go consumer
// sees, with every response checked against the contract on the way.
func TestGeneratedClientEndToEnd(t *testing.T) { eachStore(t, testGeneratedClientEndToEnd) }

func testGeneratedClientEndToEnd(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	host := func(_ context.Context, req *http.Request) error { req.Host = "prod.test"; return nil }
	newClient := func(token string) *client.ClientWithResponses {
		c, err := client.NewClientWithResponses(srv.URL,
			client.WithSession(token),
			client.WithRequestEditorFn(host),
			client.WithHTTPClient(&http.Client{Transport: contracttest.Transport(t, nil)}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()

	resp, err := newClient(e.session("prod.test", "alice@example.com", nil)).GetUserWorkspaceMembershipsWithResponse(ctx, &client.GetUserWorkspaceMembershipsParams{})
	if err != nil || resp.Err() != nil {
		t.Fatalf("%v %v", err, resp.Err())
	}
	got := resp.JSON200
	if len(got.Data) != 5 || got.Data[0].Id != "156" || got.Data[0].EligibilityRestriction.Type != client.IpAndMfaRequired {
		t.Errorf("answer: %+v", got.Data)
	}
	if got.Data[0].Workspace.CreatedAt.IsZero() || got.Session.Id == "" {
		t.Error("zero values in a typed answer")
	}

	org := "160"
	resp, err = newClient(e.session("prod.test", "alice@example.com", nil)).GetUserWorkspaceMembershipsWithResponse(ctx, &client.GetUserWorkspaceMembershipsParams{OrgId: &org})
	if err != nil || resp.Err() != nil || len(resp.JSON200.Data) != 1 || resp.JSON200.Data[0].Organization.Id != org {
		t.Fatalf("org filter: %v %+v", err, resp)
	}

	resp, err = newClient("garbage").GetUserWorkspaceMembershipsWithResponse(ctx, &client.GetUserWorkspaceMembershipsParams{})
	if err != nil {
		t.Fatal(err)
	}
	var apiErr *client.APIError
	if !errors.As(resp.Err(), &apiErr) || apiErr.Status != 401 || apiErr.Code != client.CodeInvalidSession {
		t.Errorf("typed error: %v", resp.Err())
	}
}

// The client wrapper follows a refresh: after the server hands back a new
// token, it sends that one, so the session survives past the grace window in
// which re-sending the old token would revoke it.
func TestClientFollowsRefresh(t *testing.T) {
	eachStore(t, func(t *testing.T, db string) {
		clk := newClock()
		e := newEnv(t, db, server.Config{Now: clk.now})
		srv := httptest.NewServer(e.h)
		defer srv.Close()
		for _, host := range []string{"prod.test", "staging.test"} {
			user := map[string]string{"prod.test": "alice@example.com", "staging.test": "dev@example.com"}[host]
			old := e.expired(host, user, clk.now().Add(time.Hour))
			c, err := client.New(srv.URL, client.WithSession(old),
				client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error { req.Host = host; return nil }),
				client.WithHTTPClient(&http.Client{Transport: contracttest.Transport(t, nil)}))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := c.List(ctx); err != nil {
				t.Fatalf("%s: first call (refreshes): %v", host, err)
			}
			fresh := c.Session()
			if fresh == "" || fresh == old {
				t.Fatalf("%s: the client did not keep the refreshed token", host)
			}
			clk.add(2 * auth.RefreshGrace)
			if _, err := c.List(ctx); err != nil {
				t.Fatalf("%s: after the grace window the client must send the new token: %v", host, err)
			}
			if c.Session() != fresh {
				t.Errorf("%s: a second refresh happened", host)
			}
		}
	})
}
