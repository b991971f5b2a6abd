package postgres

import (
	"testing"

	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// TestLoadDerivedColumns checks the columns the loader writes in place of
// the triggers (0008) against the triggers' own expressions: link scopes,
// role references (deleted roles left out, id order) and permissions
// (distinct, byte order, escaped as json_agg escapes).
func TestLoadDerivedColumns(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s := openAt(t, url, Options{})
	ds := storetest.Fixture()
	perms := &ds.OrganizationRoles[0].Permissions
	*perms = append(*perms, "Zeta", "quote\" back\\ tab\t bell\x07 é")
	if err := s.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	scaled, _ := storetest.Scaled(1, 40)
	if err := s.Load(ctx, scaled); err != nil {
		t.Fatal(err)
	}
	db := storetest.RawDB(t, url)
	for _, c := range []struct{ what, query string }{
		{"role_refs", `SELECT count(*) FILTER (WHERE role_refs IS DISTINCT FROM role_refs_of(id)), count(role_refs)
			FROM workspace_memberships`},
		{"permissions", `SELECT count(*) FILTER (WHERE permissions IS DISTINCT FROM permissions_of(id)), count(permissions)
			FROM organization_memberships`},
		{"workspace_membership_roles scope", `SELECT count(*) FILTER (WHERE l.workspace_id IS DISTINCT FROM m.workspace_id), count(*)
			FROM workspace_membership_roles l LEFT JOIN workspace_memberships m ON m.id = l.workspace_membership_id`},
		{"organization_membership_roles scope", `SELECT count(*) FILTER (WHERE l.organization_id IS DISTINCT FROM m.organization_id), count(*)
			FROM organization_membership_roles l LEFT JOIN organization_memberships m ON m.id = l.organization_membership_id`},
		{"workspace_segments scope", `SELECT count(*) FILTER (WHERE l.deployment_id IS DISTINCT FROM w.deployment_id), count(*)
			FROM workspace_segments l LEFT JOIN workspaces w ON w.id = l.workspace_id`},
		{"organization_segments scope", `SELECT count(*) FILTER (WHERE l.deployment_id IS DISTINCT FROM o.deployment_id), count(*)
			FROM organization_segments l LEFT JOIN organizations o ON o.id = l.organization_id`},
	} {
		var wrong, set int
		if err := db.QueryRowContext(ctx, c.query).Scan(&wrong, &set); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if wrong != 0 || set == 0 {
			t.Errorf("%s: %d rows differ from the triggers' value, %d set", c.what, wrong, set)
		}
	}
}
