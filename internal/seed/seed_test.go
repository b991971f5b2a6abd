package seed_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/seed"
	"github.com/wachtbench/memberships/internal/store"
)

func TestGenerateLoads(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir()+"/seed.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := seed.Default()
	c.Users, c.ChunkUsers, c.Organizations, c.WorkspacesPerOrganization = 25, 10, 3, 4
	c.MembershipsPerUser, c.RolesPerWorkspace, c.RolesPerMembership = 6, 3, 2

	var progress []int
	var memberships, roles int
	err = seed.Generate(ctx, c, func(ds *domain.Dataset, users int) error {
		progress = append(progress, users)
		memberships += len(ds.WorkspaceMemberships)
		for _, m := range ds.WorkspaceMemberships {
			roles += len(m.RoleIDs)
		}
		return st.Load(ctx, ds)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := progress; len(got) != 4 || got[0] != 0 || got[1] != 10 || got[3] != 25 {
		t.Errorf("chunks ended at %v users", got)
	}
	if memberships != 25*6 || roles != 25*6*2 {
		t.Errorf("%d memberships with %d roles", memberships, roles)
	}

	d, err := st.DeploymentByHost(ctx, c.Host)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.FindUser(ctx, d.ID, seed.Email(c, 24))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := st.Memberships(ctx, domain.MembershipQuery{DeploymentID: d.ID, UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 6 {
		t.Errorf("user 24 has %d memberships, want 6", len(ms))
	}
	for _, m := range ms {
		if len(m.Roles) != 2 || len(m.OrganizationPermissions) != 1 {
			t.Errorf("membership %d: %d roles, organization permissions %v", m.ID, len(m.Roles), m.OrganizationPermissions)
		}
	}
}

// A second data set goes into the same database beside the first.
func TestSeedTwice(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir()+"/seed.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, host := range []string{"one.test", "two.test"} {
		c := seed.Default()
		c.Host, c.Users = host, 5
		if err := seed.Generate(ctx, c, func(ds *domain.Dataset, _ int) error { return st.Load(ctx, ds) }); err != nil {
			t.Fatalf("%s: %v", host, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*seed.Config)
		want string
	}{
		{func(c *seed.Config) { c.Host = "" }, "host"},
		{func(c *seed.Config) { c.Mode = "sideways" }, "mode"},
		{func(c *seed.Config) { c.Organizations = 0 }, "organizations"},
		{func(c *seed.Config) { c.WorkspacesPerOrganization = 0 }, "workspaces"},
		{func(c *seed.Config) { c.RolesPerWorkspace = 0 }, "roles"},
		{func(c *seed.Config) { c.Users = -1 }, "users"},
		{func(c *seed.Config) { c.ChunkUsers = 0 }, "chunk"},
	} {
		c := seed.Default()
		tc.edit(&c)
		err := seed.Generate(context.Background(), c, func(*domain.Dataset, int) error { return nil })
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", c, err, tc.want)
		}
	}
}
