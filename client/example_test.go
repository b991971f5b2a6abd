package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"

	"github.com/wachtbench/memberships/client"
	"github.com/wachtbench/memberships/internal/demo"
	"github.com/wachtbench/memberships/server"
)

// The client against a real server: the demo data set served in-process, and
// a session token of its demo user.
func Example() {
	baseURL, token, stop := demoServer()
	defer stop()
	ctx := context.Background()

	c, err := client.New(baseURL, client.WithSession(token))
	if err != nil {
		log.Fatal(err)
	}
	answer, err := c.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range answer.Data {
		status := "ok"
		if m.Restricted() {
			status = string(m.EligibilityRestriction.Type)
		}
		fmt.Printf("%-15s %-10s %s\n", m.Workspace.Name, m.Organization.Name, status)
	}

	// Error answers are *client.APIError, with helpers for the usual checks.
	_, err = c.ListOrg(ctx, "not-an-id")
	fmt.Println("bad request:", client.IsBadRequest(err))
	anonymous, _ := client.New(baseURL)
	_, err = anonymous.List(ctx)
	code, _ := client.CodeOf(err)
	fmt.Println("unauthorized:", client.IsUnauthorized(err), code == client.CodeMissingSession)

	// Output:
	// Intranet        Globex     ok
	// Vault           Globex     ip_and_mfa_required
	// General         Acme Corp  ok
	// Security        Acme Corp  mfa_required
	// Finance         Acme Corp  ip_not_allowed
	// Platform Admin  Acme Corp  ok
	// bad request: true
	// unauthorized: true true
}

// demoServer serves the demo data set on 127.0.0.1 (a host of the demo
// deployment) and mints a token for its demo user.
func demoServer() (baseURL, token string, stop func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "memberships-example")
	if err != nil {
		log.Fatal(err)
	}
	st, err := demo.Open(ctx, dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	token, err = demo.Token(ctx, st, demo.Host, demo.User)
	if err != nil {
		log.Fatal(err)
	}
	h, err := server.New(server.Config{}, st)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	return srv.URL, token, func() {
		srv.Close()
		st.Close()
		os.RemoveAll(dir)
	}
}
