package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wachtbench/memberships/client"
	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/server"
)

// The generated client against a real listening server: what a Go consumer
// sees, with every response checked against the contract on the way.
func TestGeneratedClientEndToEnd(t *testing.T) {
	e := newEnv(t, server.Config{})
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
