package storetest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// probe is a data set of one deployment of its own (id ID(n)), with a user,
// on hosts, its session cookie for cookieDomain ("" for the host's own).
func probe(n int64, cookieDomain string, hosts ...string) *domain.Dataset {
	return &domain.Dataset{
		Deployments: []domain.DeploymentRecord{{Path: "deployments[0]", ID: ID(n), Hosts: hosts,
			Mode: domain.ModeProduction, CookieDomain: cookieDomain,
			PrivateKeyPEM: []byte(privatePEM1), PublicKeyPEM: []byte(publicPEM1), Times: times(0, 0)}},
		Users: []domain.UserRecord{{Path: "deployments[0].users[0]", ID: ID(n + 1), DeploymentID: ID(n),
			Email: "probe@example.test", Times: times(0, 0)}},
	}
}

// testCookieDomains: a deployment's session cookie goes to every host under
// its cookie_domain, so no cookie_domain may cover another deployment's
// host, whichever is loaded first, in one file or in two loads. A refused
// load stores nothing; loads before it stay.
func testCookieDomains(t *testing.T, open func(t *testing.T) domain.Store) {
	// One file: the Fixture, whose deployments serve app.example.test and
	// localhost, and other.example.test.
	oneFile := []struct {
		name string
		edit func(ds *domain.Dataset)
		want []string // substrings of the error, the first its path and field
	}{
		{"first deployment's domain over the second's host", func(ds *domain.Dataset) {
			ds.Deployments[0].CookieDomain = "example.test"
		}, []string{`deployments[0].cookie_domain: "example.test" covers "other.example.test", a host of deployments[1]`}},
		{"second deployment's domain over the first's host", func(ds *domain.Dataset) {
			ds.Deployments[1].CookieDomain = "example.test"
		}, []string{`deployments[1].cookie_domain: "example.test" covers "app.example.test", a host of deployments[0]`}},
		{"a host that is the other's domain", func(ds *domain.Dataset) {
			ds.Deployments[1].Hosts = []string{"other.example.test", "example.test"}
			ds.Deployments[0].CookieDomain = "example.test"
		}, []string{`deployments[0].cookie_domain: "example.test" covers "example.test", a host of deployments[1]`}},
		{"a domain that is the other's primary host", func(ds *domain.Dataset) {
			ds.Deployments[0].Hosts = []string{"api.other.example.test"}
			ds.Deployments[0].CookieDomain = "other.example.test"
		}, []string{`deployments[0].cookie_domain: "other.example.test" covers "other.example.test", a host of deployments[1]`}},
	}
	for _, tt := range oneFile {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			ds := Fixture()
			tt.edit(ds)
			err := s.Load(t.Context(), ds)
			checkCookieError(t, err, tt.want...)
			if empty, err := s.Empty(t.Context()); err != nil || !empty {
				t.Errorf("Empty() = %v, %v after a refused Load, want true", empty, err)
			}
		})
	}

	// Two loads: the first stays, the second stores nothing.
	earlier := func(id int64) string { return "deployment " + strconv.FormatInt(ID(id), 10) + " (loaded earlier)" }
	twoLoads := []struct {
		name          string
		first, second *domain.Dataset
		want          []string
	}{
		{"new domain over an earlier host", probe(900, "", "api.b.probe.test"), probe(910, "probe.test", "api.a.probe.test"),
			[]string{`deployments[0].cookie_domain: "probe.test" covers "api.b.probe.test", a host of ` + earlier(900)}},
		{"new host under an earlier domain", probe(900, "probe.test", "api.a.probe.test"), probe(910, "", "api.b.probe.test"),
			[]string{`deployments[0].hosts[0]: "api.b.probe.test" is under the cookie_domain "probe.test" of ` + earlier(900)}},
		{"new second host, the earlier domain itself", probe(900, "probe.test", "api.a.probe.test"), probe(910, "", "b.test", "probe.test"),
			[]string{`deployments[0].hosts[1]: "probe.test" is under the cookie_domain "probe.test" of ` + earlier(900)}},
		{"new domain, the earlier host itself", probe(900, "", "probe.test"), probe(910, "probe.test", "api.probe.test"),
			[]string{`deployments[0].cookie_domain: "probe.test" covers "probe.test", a host of ` + earlier(900)}},
		{"new domain over an earlier deployment of the Fixture", Fixture(), probe(910, "example.test", "api.example.test"),
			[]string{`deployments[0].cookie_domain: "example.test" covers "app.example.test", a host of ` + earlier(1)}},
	}
	for _, tt := range twoLoads {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			if err := s.Load(ctx, tt.first); err != nil {
				t.Fatalf("first Load: %v", err)
			}
			err := s.Load(ctx, tt.second)
			checkCookieError(t, err, tt.want...)
			second := tt.second.Deployments[0]
			for _, h := range second.Hosts {
				if _, err := s.DeploymentByHost(ctx, h); !errors.Is(err, domain.ErrNotFound) {
					t.Errorf("DeploymentByHost(%q) after the refused Load: %v, want ErrNotFound", h, err)
				}
			}
			if _, err := s.FindUser(ctx, second.ID, tt.second.Users[0].Email); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("FindUser in the refused deployment: %v, want ErrNotFound", err)
			}
			first := tt.first.Deployments[0]
			if d, err := s.DeploymentByHost(ctx, first.Hosts[0]); err != nil || d.ID != first.ID {
				t.Errorf("DeploymentByHost(%q) after the refused Load: %+v, %v, want the first load's", first.Hosts[0], d, err)
			}
		})
	}

	// What a browser keeps apart loads; the same deployment does not
	// collide with itself when loaded again (its id is taken).
	t.Run("apart", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for i, ds := range []*domain.Dataset{
			probe(900, "a.probe.test", "api.a.probe.test", "a.probe.test"),
			probe(910, "b.probe.test", "api.b.probe.test"), // a sibling domain
			probe(920, "", "probe.test"),                   // the parent, host-only
			probe(930, "", "xa.probe.test"),                // a suffix of the name, not a parent domain
			probe(940, "a_b.test", "api.a_b.test"),         // "_" is no wildcard
			probe(950, "", "api.axb.test"),
			probe(960, "localhost", "localhost"), // a single label: the host's own cookie
			probe(970, "", "api.localhost"),
			probe(980, "192.0.2.1", "192.0.2.1"), // an address: its own cookie
			probe(990, "", "x.192.0.2.1"),
		} {
			if err := s.Load(ctx, ds); err != nil {
				t.Fatalf("Load %d (%v): %v", i, ds.Deployments[0].Hosts, err)
			}
		}
		err := s.Load(ctx, probe(900, "a.probe.test", "api.a.probe.test", "a.probe.test"))
		if !errors.Is(err, domain.ErrConflict) || !strings.Contains(err.Error(), "already exists") ||
			strings.Contains(err.Error(), "cookie_domain") {
			t.Errorf("Load of a deployment again: %v, want its id taken, not its cookie domain", err)
		}
	})

	// A collision already in the database (written before these checks, or
	// by another program) is not an unrelated load's to report.
	t.Run("earlier collision", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if err := s.Load(ctx, probe(900, "probe.test", "api.a.probe.test")); err != nil {
			t.Fatal(err)
		}
		x, ok := s.(Execer)
		if !ok {
			t.Fatalf("%T does not implement storetest.Execer", s)
		}
		for _, q := range collidingDeployment(ID(910), "api.b.probe.test") {
			if err := x.Exec(ctx, q.query, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Load(ctx, probe(920, "", "other.test")); err != nil {
			t.Errorf("unrelated Load: %v", err)
		}
	})
	t.Run("concurrent", func(t *testing.T) { testCookieDomainsConcurrent(t, open(t)) })
}

// testCookieDomainsConcurrent loads a deployment while another writer's
// transaction holds, uncommitted, a host under its cookie_domain: the load
// must wait for it and refuse, not load beside it unseen.
func testCookieDomainsConcurrent(t *testing.T, s domain.Store) {
	ctx := t.Context()
	m, ok := s.(mutable)
	if !ok {
		t.Fatalf("%T is not a storetest.Mutable store", s)
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range collidingDeployment(ID(900), "api.b.probe.test") {
		query, args := rawArgs(m.url, q.query, q.args)
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.Load(ctx, probe(910, "probe.test", "api.a.probe.test")) }()
	select {
	case err := <-done:
		t.Errorf("Load did not wait for the other transaction: %v", err)
		_ = tx.Rollback()
		return
	case <-time.After(500 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	checkCookieError(t, <-done, `deployments[0].cookie_domain: "probe.test" covers "api.b.probe.test", a host of deployment `+
		strconv.FormatInt(ID(900), 10)+" (loaded earlier)")
	if _, err := s.DeploymentByHost(ctx, "api.a.probe.test"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("DeploymentByHost after the refused Load: %v, want ErrNotFound", err)
	}
}

type rawStatement struct {
	query string
	args  []any
}

// collidingDeployment is plain SQL writing a deployment with one host, as
// another program could.
func collidingDeployment(id int64, host string) []rawStatement {
	return []rawStatement{
		{`INSERT INTO deployments (id, host, mode, ip_allowlist_per_workspace_enabled, enforce_mfa_per_workspace_enabled,
			created_at, updated_at) VALUES (?, ?, 'production', false, false, ?, ?)`, []any{id, host, t0, t0}},
		{`INSERT INTO deployment_hosts (host, deployment_id) VALUES (?, ?)`, []any{host, id}},
	}
}

func checkCookieError(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("Load succeeded")
	}
	t.Logf("error: %v", err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if !errors.Is(err, domain.ErrConflict) {
		t.Errorf("error is not ErrConflict")
	}
}
