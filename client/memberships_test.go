package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wachtbench/memberships/client"
	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/internal/demo"
	"github.com/wachtbench/memberships/internal/store/storetest"
	"github.com/wachtbench/memberships/server"
)

// serveDemo serves the demo data set on localhost and returns its URL, a
// session token of the demo user and the database file.
func serveDemo(t *testing.T) (url, token, db string) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := demo.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if token, err = demo.Token(ctx, st, demo.Host, demo.User); err != nil {
		t.Fatal(err)
	}
	h, err := server.New(server.Config{}, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), token, filepath.Join(dir, "demo.db")
}

func TestMemberships(t *testing.T) {
	ctx := context.Background()
	localhost, token, _ := serveDemo(t)
	checked := client.WithHTTPClient(&http.Client{Transport: contracttest.Transport(t, nil)})
	unknownHost := client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Host = "nowhere.test"
		return nil
	})

	for _, tc := range []struct {
		name      string
		opts      []client.ClientOption
		list      []client.ListOption
		want      int // memberships, when no error
		code      client.ErrorCode
		is        func(error) bool
		notOthers []func(error) bool
	}{
		{name: "all", opts: []client.ClientOption{client.WithSession(token)}, want: 6},
		{name: "one organization", opts: []client.ClientOption{client.WithSession(token)}, list: []client.ListOption{client.InOrganization("2001")}, want: 4},
		{name: "no such organization", opts: []client.ClientOption{client.WithSession(token)}, list: []client.ListOption{client.InOrganization("9")}, want: 0},
		{name: "malformed organization", opts: []client.ClientOption{client.WithSession(token)}, list: []client.ListOption{client.InOrganization("x")},
			code: client.CodeBadParameter, is: client.IsBadRequest, notOthers: []func(error) bool{client.IsUnauthorized, client.IsNotFound}},
		{name: "no session", code: client.CodeMissingSession, is: client.IsUnauthorized, notOthers: []func(error) bool{client.IsExpired, client.IsBadRequest}},
		{name: "bad session", opts: []client.ClientOption{client.WithSession("garbage")}, code: client.CodeInvalidSession, is: client.IsUnauthorized},
		{name: "unknown deployment", opts: []client.ClientOption{client.WithSession(token), unknownHost}, code: client.CodeDeploymentNotFound, is: client.IsNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := client.New(localhost, append(tc.opts, checked)...)
			if err != nil {
				t.Fatal(err)
			}
			answer, err := c.List(ctx, tc.list...)
			if tc.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if len(answer.Data) != tc.want || answer.Session.Id == "" {
					t.Errorf("%d memberships, session %q; want %d", len(answer.Data), answer.Session.Id, tc.want)
				}
				return
			}
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Code != tc.code || ae.Message == "" {
				t.Fatalf("error %v, want code %d", err, tc.code)
			}
			if code, ok := client.CodeOf(err); !ok || code != tc.code || !tc.is(err) {
				t.Errorf("helpers disagree on %v", err)
			}
			for _, not := range tc.notOthers {
				if not(err) {
					t.Errorf("a helper for another error matched %v", err)
				}
			}
		})
	}
}

func TestListOrgIsListInOrganization(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":200,"message":"","data":[],"session":{"id":"1","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}}`))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListOrg(context.Background(), "42"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "org_id=42" || got[1] != "" {
		t.Errorf("queries %q", got)
	}
}

// The client remembers the last answer and its ETag, per filter: an
// unchanged answer is revalidated (304, counted at the transport) and the
// same answer returned; a changed one is downloaded again.
func TestListRevalidates(t *testing.T) {
	ctx := context.Background()
	url, token, path := serveDemo(t)
	statuses := map[int]int{}
	counting := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			statuses[resp.StatusCode]++
		}
		return resp, err
	})
	c, err := client.New(url, client.WithSession(token),
		client.WithHTTPClient(&http.Client{Transport: contracttest.Transport(t, counting)}))
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.List(ctx)
	if err != nil || again != first {
		t.Fatalf("second List: %v, same answer %v", err, again == first)
	}
	org, err := c.ListOrg(ctx, "2001")
	if err != nil || len(org.Data) == len(first.Data) {
		t.Fatalf("ListOrg: %v, %d memberships", err, len(org.Data))
	}
	if again, err := c.ListOrg(ctx, "2001"); err != nil || again != org {
		t.Fatalf("second ListOrg: %v", err)
	}
	if statuses[200] != 2 || statuses[304] != 2 {
		t.Errorf("statuses %v, want two 200 and two 304", statuses)
	}

	db := storetest.RawDB(t, path)
	if _, err := db.ExecContext(ctx, `UPDATE workspaces SET name = 'Renamed' WHERE id = ?`, first.Data[0].Workspace.Id); err != nil {
		t.Fatal(err)
	}
	changed, err := c.List(ctx)
	if err != nil || changed == first || changed.Data[0].Workspace.Name != "Renamed" {
		t.Fatalf("after a change: %v, new answer %v", err, changed != first)
	}
	if statuses[200] != 3 {
		t.Errorf("statuses %v, want a third 200", statuses)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
