package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
)

// Execer runs one statement of plain SQL, with ? placeholders, on a store's
// database, failing unless it changes exactly one row: what another program
// with database access could write. A store's test wraps its store to
// implement it; the tenancy and freshness tests fail without it.
type Execer interface {
	Exec(ctx context.Context, query string, args ...any) error
}

// testTenantsApart writes cross-tenant links with plain SQL: the schema
// refuses each, changing nothing, and still takes the consistent ones.
func testTenantsApart(t *testing.T, s domain.Store) {
	ctx := t.Context()
	x, ok := s.(Execer)
	if !ok {
		t.Fatalf("%T does not implement storetest.Execer", s)
	}
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		what, query string
		args        []any
	}{
		{"another workspace's admin role on a workspace membership",
			`INSERT INTO workspace_membership_roles (workspace_membership_id, workspace_role_id) VALUES (?, ?)`, []any{ID(802), ID(601)}},
		{"another deployment's workspace role on a workspace membership",
			`INSERT INTO workspace_membership_roles (workspace_membership_id, workspace_role_id) VALUES (?, ?)`, []any{ID(809), ID(601)}},
		{"a workspace membership's role swapped for another workspace's",
			`UPDATE workspace_membership_roles SET workspace_role_id = ? WHERE workspace_membership_id = ? AND workspace_role_id = ?`, []any{ID(605), ID(806), ID(602)}},
		{"a role holding members moved to another workspace",
			`UPDATE workspace_roles SET workspace_id = ? WHERE id = ?`, []any{wsLabs, ID(602)}},
		{"a membership holding roles moved to another workspace",
			`UPDATE workspace_memberships SET workspace_id = ? WHERE id = ?`, []any{wsLabs, ID(806)}},
		{"a workspace role moved to another deployment",
			`UPDATE workspace_roles SET deployment_id = ? WHERE id = ?`, []any{deployment2, ID(604)}},
		{"another organization's admin role on an organization membership",
			`INSERT INTO organization_membership_roles (organization_membership_id, organization_role_id) VALUES (?, ?)`, []any{ID(702), ID(501)}},
		{"another deployment's organization role on an organization membership",
			`INSERT INTO organization_membership_roles (organization_membership_id, organization_role_id) VALUES (?, ?)`, []any{ID(706), ID(501)}},
		{"another deployment's segment on an organization",
			`INSERT INTO organization_segments (organization_id, segment_id) VALUES (?, ?)`, []any{acme, ID(206)}},
		{"another deployment's segment on a workspace",
			`INSERT INTO workspace_segments (workspace_id, segment_id) VALUES (?, ?)`, []any{wsMain, ID(206)}},
		{"a linked segment moved to another deployment",
			`UPDATE segments SET deployment_id = ? WHERE id = ?`, []any{deployment2, ID(201)}},
	}
	for _, r := range refused {
		if err := x.Exec(ctx, r.query, r.args...); err == nil {
			t.Errorf("%s: accepted", r.what)
		}
	}
	// Nothing changed: bob's one membership still has only its viewer role.
	got, err := s.Memberships(ctx, domain.MembershipQuery{DeploymentID: deployment1, UserID: bob})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Workspace.ID != wsMain || len(got[0].Roles) != 1 || got[0].Roles[0].ID != ID(602) {
		t.Errorf("bob's memberships after the refused writes: %s", describe(got))
	}

	for _, q := range []struct {
		query string
		args  []any
	}{
		{`INSERT INTO workspace_membership_roles (workspace_membership_id, workspace_role_id) VALUES (?, ?)`, []any{ID(808), ID(604)}},
		{`INSERT INTO organization_membership_roles (organization_membership_id, organization_role_id) VALUES (?, ?)`, []any{ID(707), ID(502)}},
		{`INSERT INTO organization_segments (organization_id, segment_id) VALUES (?, ?)`, []any{globex, ID(202)}},
		{`INSERT INTO workspace_segments (workspace_id, segment_id) VALUES (?, ?)`, []any{wsLabs, ID(201)}},
	} {
		if err := x.Exec(ctx, q.query, q.args...); err != nil {
			t.Errorf("a consistent link %v refused: %v", q.args, err)
		}
	}
}

func describe(ms []domain.Membership) string {
	s := ""
	for _, m := range ms {
		s += fmt.Sprintf("[membership %d workspace %d roles", m.ID, m.Workspace.ID)
		for _, r := range m.Roles {
			s += fmt.Sprintf(" %d", r.ID)
		}
		s += "] "
	}
	return s
}
