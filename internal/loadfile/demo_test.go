package loadfile

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wachtbench/memberships/examples"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
)

func TestDemoShowsEveryRestriction(t *testing.T) {
	ds, err := Parse("demo.yaml", examples.Demo, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]eligibility.Restriction{ // workspace id → restriction
		3001: eligibility.None,
		3002: eligibility.None,
		3003: eligibility.IPNotAllowed,
		3004: eligibility.MFARequired,
		3005: eligibility.IPAndMFARequired,
		3006: eligibility.None,
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		got := restrictions(t, ds, "localhost", "demo@example.com", netip.MustParseAddr(ip))
		if len(got) != len(want) {
			t.Errorf("from %s: %d live memberships %v, want %d", ip, len(got), got, len(want))
		}
		for ws, r := range want {
			if got[ws] != r {
				t.Errorf("from %s: workspace %d = %q, want %q", ip, ws, got[ws], r)
			}
		}
	}
	// The user with an authenticator passes the MFA rule.
	mfa := restrictions(t, ds, "localhost", "mfa@example.com", netip.MustParseAddr("127.0.0.1"))
	if len(mfa) != 2 || mfa[3001] != eligibility.None || mfa[3004] != eligibility.None {
		t.Errorf("mfa@example.com: %v", mfa)
	}
	// Production's switches are off: its restricted workspace restricts nothing.
	prod := restrictions(t, ds, "prod.example.test", "demo@example.com", netip.MustParseAddr("127.0.0.1"))
	if len(prod) != 1 || prod[3501] != eligibility.None {
		t.Errorf("prod.example.test: %v", prod)
	}

	seen := map[eligibility.Restriction]bool{}
	for _, r := range want {
		seen[r] = true
	}
	if len(seen) != 4 {
		t.Errorf("demo shows %d restrictions, want all 4", len(seen))
	}
}

// restrictions mimics the store and the service on a Dataset: the live
// workspace memberships of one user, evaluated.
func restrictions(t *testing.T, ds *domain.Dataset, host, email string, ip netip.Addr) map[int64]eligibility.Restriction {
	t.Helper()
	var dep domain.DeploymentRecord
	for _, d := range ds.Deployments {
		for _, h := range d.Hosts {
			if h == host {
				dep = d
			}
		}
	}
	var user int64
	hasMFA := false
	for _, u := range ds.Users {
		if u.DeploymentID == dep.ID && u.Email == email {
			user, hasMFA = u.ID, u.BackupCodesGenerated
		}
	}
	if user == 0 {
		t.Fatalf("no user %s on %s", email, host)
	}
	for _, a := range ds.Authenticators {
		hasMFA = hasMFA || a.UserID == user
	}
	perms := map[int64][]string{} // role id → permissions
	for _, r := range append(ds.OrganizationRoles, ds.WorkspaceRoles...) {
		if r.DeletedAt == nil {
			perms[r.ID] = r.Permissions
		}
	}
	orgPerms := map[int64][]string{} // organization membership id → permissions
	for _, om := range ds.OrganizationMemberships {
		for _, r := range om.RoleIDs {
			orgPerms[om.ID] = append(orgPerms[om.ID], perms[r]...)
		}
	}
	workspaces := map[int64]domain.WorkspaceRecord{}
	for _, w := range ds.Workspaces {
		workspaces[w.ID] = w
	}
	d := domain.Deployment{
		ID:                             dep.ID,
		Mode:                           dep.Mode,
		IPAllowlistPerWorkspaceEnabled: dep.IPAllowlistPerWorkspaceEnabled,
		EnforceMFAPerWorkspaceEnabled:  dep.EnforceMFAPerWorkspaceEnabled,
	}
	out := map[int64]eligibility.Restriction{}
	for _, wm := range ds.WorkspaceMemberships {
		w := workspaces[wm.WorkspaceID]
		if wm.UserID != user || wm.DeletedAt != nil || w.DeletedAt != nil {
			continue
		}
		m := domain.Membership{
			ID:                      wm.ID,
			OrganizationPermissions: orgPerms[wm.OrganizationMembershipID],
			Workspace: &domain.Workspace{
				ID:                  w.ID,
				Enforce2FA:          w.Enforce2FA,
				EnableIPRestriction: w.EnableIPRestriction,
				WhitelistedIPs:      w.WhitelistedIPs,
			},
		}
		for _, r := range wm.RoleIDs {
			m.Roles = append(m.Roles, &domain.Role{ID: r, Permissions: perms[r]})
		}
		out[w.ID] = eligibility.Evaluate(d, &m, ip, hasMFA)
	}
	return out
}
