package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/fragment"
)

// freshnessWrites write, in SQL both stores accept, to every table a
// fragment or a membership row depends on, each changing alice's answer.
// {wsMain}, {acme}, {801}… stand for fixture ids.
var freshnessWrites = []struct{ what, sql string }{
	{"membership metadata", `UPDATE workspace_memberships SET public_metadata = '{"fresh":true}' WHERE id = {801}`},
	{"workspace name", `UPDATE workspaces SET name = 'Renamed' WHERE id = {wsMain}`},
	{"workspace allow-list", `UPDATE workspaces SET whitelisted_ips = (SELECT whitelisted_ips FROM organizations WHERE id = {acme}) WHERE id = {wsMain}`},
	{"workspace MFA switch", `UPDATE workspaces SET enforce_2fa = NOT enforce_2fa WHERE id = {wsMain}`},
	{"organization name", `UPDATE organizations SET name = 'Renamed' WHERE id = {acme}`},
	{"role name", `UPDATE workspace_roles SET name = 'Renamed' WHERE id = {601}`},
	{"role permissions", `UPDATE workspace_roles SET permissions = (SELECT permissions FROM workspace_roles WHERE id = {604}) WHERE id = {602}`},
	{"role link", `DELETE FROM workspace_membership_roles WHERE workspace_membership_id = {801} AND workspace_role_id = {601}`},
	{"role deleted", `UPDATE workspace_roles SET deleted_at = created_at WHERE id = {602}`},
	{"segment name", `UPDATE segments SET name = 'Renamed' WHERE id = {205}`},
	{"segment deleted", `UPDATE segments SET deleted_at = created_at WHERE id = {201}`},
	{"workspace segment unlinked", `DELETE FROM workspace_segments WHERE workspace_id = {wsMain} AND segment_id = {205}`},
	{"workspace segment linked", `INSERT INTO workspace_segments (workspace_id, segment_id) VALUES ({wsMain}, {205})`},
	{"organization segment unlinked", `DELETE FROM organization_segments WHERE organization_id = {acme} AND segment_id = {202}`},
	{"workspace member count", `UPDATE workspace_memberships SET deleted_at = created_at WHERE id = {806}`},
	{"organization member count", `UPDATE organization_memberships SET deleted_at = created_at WHERE id = {704}`},
	{"organization role link", `DELETE FROM organization_membership_roles WHERE organization_membership_id = {701} AND organization_role_id = {501}`},
	{"organization role permissions", `UPDATE organization_roles SET permissions = (SELECT permissions FROM organization_roles WHERE id = {504}) WHERE id = {502}`},
	{"organization membership deleted", `UPDATE organization_memberships SET deleted_at = created_at WHERE id = {702}`},
	{"organization membership restored", `UPDATE organization_memberships SET deleted_at = NULL WHERE id = {702}`},
	{"workspace membership deleted", `UPDATE workspace_memberships SET deleted_at = created_at WHERE id = {802}`},
	{"organization role linked", `INSERT INTO organization_membership_roles (organization_membership_id, organization_role_id) VALUES ({701}, {501})`},
	{"workspace membership restored", `UPDATE workspace_memberships SET deleted_at = NULL WHERE id = {802}`},
	{"workspace deleted", `UPDATE workspaces SET deleted_at = created_at WHERE id = {wsLabs}`},
	{"organization allow-list", `UPDATE organizations SET whitelisted_ips = (SELECT whitelisted_ips FROM workspaces WHERE id = {wsLabs}) WHERE id = {acme}`},
	{"organization MFA switch", `UPDATE organizations SET enforce_mfa = NOT enforce_mfa WHERE id = {acme}`},
	{"organization segment linked", `INSERT INTO organization_segments (organization_id, segment_id) VALUES ({acme}, {202})`},
	{"organization deleted", `UPDATE organizations SET deleted_at = created_at WHERE id = {acme}`},
}

var (
	fixtureID   = regexp.MustCompile(`\{[0-9]+\}`)
	fixtureName = strings.NewReplacer("{wsMain}", fmt.Sprint(wsMain), "{wsLabs}", fmt.Sprint(wsLabs), "{acme}", fmt.Sprint(acme))
)

// fixtureSQL spells out the fixture ids a statement names.
func fixtureSQL(stmt string) string {
	return fixtureID.ReplaceAllStringFunc(fixtureName.Replace(stmt), func(n string) string {
		v, _ := strconv.ParseInt(n[1:len(n)-1], 10, 64)
		return strconv.FormatInt(ID(v), 10)
	})
}

// testFreshness writes through plain SQL, behind the store's back, to
// everything alice's answer shows, and checks each write shows on the very
// next call, though the fragments were cached, and that the answer is the
// one a cold cache gives.
func testFreshness(t *testing.T, s domain.Store) {
	ex, ok := s.(Execer)
	if !ok {
		t.Fatal("the store's test must implement storetest.Execer")
	}
	swap, ok := s.(interface{ UseFragments(*fragment.Cache) })
	if !ok {
		t.Fatal("the store has no UseFragments")
	}
	ctx := t.Context()
	answer := func() []byte {
		ms, err := s.Memberships(ctx, domain.MembershipQuery{DeploymentID: deployment1, UserID: alice})
		if err != nil {
			t.Fatal(err)
		}
		return snapshot(t, ms)
	}
	before := answer()
	for _, w := range freshnessWrites {
		stmt := fixtureSQL(w.sql)
		answer() // the fragments are cached
		if err := ex.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %s: %v", w.what, stmt, err)
		}
		after := answer()
		if bytes.Equal(after, before) {
			t.Errorf("%s: the next answer did not change", w.what)
		}
		swap.UseFragments(fragment.NewCache(0))
		if cold := answer(); !bytes.Equal(after, cold) {
			t.Errorf("%s: answer on a warm cache differs from a cold one:\n warm %s\n cold %s", w.what, after, cold)
		}
		before = after
	}
}

// snapshot is everything an answer shows of memberships: their fields and
// those of their fragments.
func snapshot(t *testing.T, ms []domain.Membership) []byte {
	t.Helper()
	b, err := json.Marshal(ms)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Querier counts rows in plain SQL, behind the store's back.
type Querier interface {
	Count(ctx context.Context, query string) (int, error)
}

// testOrganizationMembershipOnRows checks the organization membership each
// live workspace membership hangs on, kept on its row by triggers (SQLite's
// 0007, PostgreSQL's 0009): after every kind of plain-SQL write that can
// change its liveness or permissions, no live row disagrees with it.
func testOrganizationMembershipOnRows(t *testing.T, s domain.Store) {
	ex, okEx := s.(Execer)
	q, okQ := s.(Querier)
	if !okEx || !okQ {
		t.Fatal("the store's test must implement storetest.Execer and storetest.Querier")
	}
	ctx := t.Context()
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	writes := []struct{ what, sql string }{
		{"role link deleted", `DELETE FROM organization_membership_roles WHERE organization_membership_id = {701} AND organization_role_id = {501}`},
		{"role link inserted", `INSERT INTO organization_membership_roles (organization_membership_id, organization_role_id) VALUES ({701}, {501})`},
		{"role permissions", `UPDATE organization_roles SET permissions = (SELECT permissions FROM organization_roles WHERE id = {504}) WHERE id = {502}`},
		{"role deleted", `UPDATE organization_roles SET deleted_at = created_at WHERE id = {501}`},
		{"organization membership deleted", `UPDATE organization_memberships SET deleted_at = created_at WHERE id = {702}`},
		{"workspace membership deleted", `UPDATE workspace_memberships SET deleted_at = created_at WHERE id = {801}`},
		{"permissions while it was deleted", `UPDATE organization_roles SET permissions = (SELECT permissions FROM organization_roles WHERE id = {503}) WHERE id = {502}`},
		{"workspace membership restored", `UPDATE workspace_memberships SET deleted_at = NULL WHERE id = {801}`},
		{"organization membership restored", `UPDATE organization_memberships SET deleted_at = NULL WHERE id = {702}`},
		{"workspace membership inserted", `INSERT INTO workspace_memberships (id, workspace_id, organization_id, organization_membership_id, user_id, public_metadata, created_at, updated_at)
			SELECT {899}, workspace_id, organization_id, {704}, {102}, public_metadata, created_at, updated_at FROM workspace_memberships WHERE id = {808}`},
	}
	const disagreeing = `SELECT count(*) FROM workspace_memberships wm
		JOIN organization_memberships om ON om.id = wm.organization_membership_id
		WHERE wm.deleted_at IS NULL AND (wm.organization_membership_live IS DISTINCT FROM (om.deleted_at IS NULL)
		   OR wm.organization_permissions IS DISTINCT FROM om.permissions)`
	for _, w := range writes {
		if err := ex.Exec(ctx, fixtureSQL(w.sql)); err != nil {
			t.Fatalf("%s: %v", w.what, err)
		}
		if n, err := q.Count(ctx, disagreeing); err != nil {
			t.Fatal(err)
		} else if n != 0 {
			t.Errorf("after %s: %d live workspace memberships disagree with their organization membership", w.what, n)
		}
	}
}
