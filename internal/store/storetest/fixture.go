package storetest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// ID maps a small fixture number to an id above 2^53, where a float64 (a JSON
// number in JavaScript) would lose digits, so every test checks exact round trips.
func ID(n int64) int64 { return 1<<62 + n }

// t0 has microseconds, the precision every store keeps. Fixtures carry no
// nanoseconds: stores may truncate or round them.
var t0 = time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC)

func at(hours int) time.Time { return t0.Add(time.Duration(hours) * time.Hour) }

func times(created, updated int) domain.Times {
	return domain.Times{CreatedAt: at(created), UpdatedAt: at(updated)}
}

func deleted(created int) domain.Times {
	d := at(created + 1)
	return domain.Times{CreatedAt: at(created), UpdatedAt: d, DeletedAt: &d}
}

func ptr[T any](v T) *T { return &v }

// Fixture ids, named for the tests.
var (
	deployment1, deployment2 = ID(1), ID(2)

	alice, bob, carol, dave, erin, frank = ID(101), ID(102), ID(103), ID(104), ID(105), ID(106)

	acme, globex, defunct, initech = ID(301), ID(302), ID(303), ID(304)

	wsMain, wsLabs, wsGone, wsGlobex, wsDefunct, wsInitech = ID(401), ID(402), ID(403), ID(404), ID(405), ID(406)
)

// Keys are not checked by stores; any PEM-shaped text will do.
const (
	privatePEM1 = "-----BEGIN PRIVATE KEY-----\nZGVwbG95bWVudCAx\n-----END PRIVATE KEY-----\n"
	publicPEM1  = "-----BEGIN PUBLIC KEY-----\nZGVwbG95bWVudCAx\n-----END PUBLIC KEY-----\n"
	privatePEM2 = "-----BEGIN PRIVATE KEY-----\nZGVwbG95bWVudCAy\n-----END PRIVATE KEY-----\n"
	publicPEM2  = "-----BEGIN PUBLIC KEY-----\nZGVwbG95bWVudCAy\n-----END PUBLIC KEY-----\n"
)

// Metadata keys are written in PostgreSQL jsonb's own order (shorter keys
// first, then bytewise) and without escapes, so a jsonb store returns the
// same bytes as one that keeps the text.
const (
	aliceMainMeta = `{"a":{"b":[1,2.5,{"c":null}],"d":true},"name":"Zoë 🚀 日本","note":"<b>&</b>","empty":{}}`
	mainMeta      = `{"color":"teal","limits":{"seats":10}}`
	acmeMeta      = `{"plan":"enterprise","regions":["eu","us"]}`
)

// Fixture is the data set the suite loads: two deployments; in the first,
// users with every MFA state, live and soft-deleted organizations,
// workspaces, roles, segments and memberships.
//
// Alice's live memberships, newest first: 800 (Globex HQ, 7h), then 802 and
// 801 (both 5h: equal created_at, higher id first). 803-805 are hidden by a
// deleted workspace, organization and membership. Carol's only membership
// hangs on a deleted organization membership.
func Fixture() *domain.Dataset {
	wsMainCreated := time.Date(2024, 1, 15, 9, 30, 0, 654321000, time.FixedZone("CET", 3600))
	return &domain.Dataset{
		Deployments: []domain.DeploymentRecord{
			{Path: "deployments[0]", ID: deployment1, Hosts: []string{"app.example.test", "localhost"},
				AllowedOrigins: []string{"https://app.example.test", "http://localhost:5173"},
				Mode:           domain.ModeProduction, IPAllowlistPerWorkspaceEnabled: true, EnforceMFAPerWorkspaceEnabled: true,
				PrivateKeyPEM: []byte(privatePEM1), PublicKeyPEM: []byte(publicPEM1), Times: times(-1000, -1000)},
			{Path: "deployments[1]", ID: deployment2, Hosts: []string{"other.example.test"},
				Mode: domain.ModeStaging, PrivateKeyPEM: []byte(privatePEM2), PublicKeyPEM: []byte(publicPEM2),
				Times: times(-1000, -999)},
		},
		Users: []domain.UserRecord{
			{Path: "deployments[0].users[0]", ID: alice, DeploymentID: deployment1, Email: "alice@example.test",
				FirstName: "Alice", LastName: "Liddell", Times: times(-900, -900)},
			{Path: "deployments[0].users[1]", ID: bob, DeploymentID: deployment1, Email: "Bob@Example.test",
				FirstName: "Bob", BackupCodesGenerated: true, Times: times(-900, -900)},
			{Path: "deployments[0].users[2]", ID: carol, DeploymentID: deployment1, Email: "carol@example.test",
				Times: times(-900, -900)},
			{Path: "deployments[0].users[3]", ID: dave, DeploymentID: deployment1, Email: "dave@example.test",
				Times: times(-900, -900)},
			{Path: "deployments[1].users[0]", ID: erin, DeploymentID: deployment2, Email: "alice@example.test",
				FirstName: "Erin", Times: times(-900, -900)},
			{Path: "deployments[0].users[4]", ID: frank, DeploymentID: deployment1, Email: "frank@example.test",
				Times: deleted(-900)},
		},
		Authenticators: []domain.AuthenticatorRecord{
			{Path: "deployments[0].users[0].authenticators[0]", ID: ID(151), UserID: alice, Type: "totp", Times: times(-800, -800)},
			{Path: "deployments[0].users[3].authenticators[0]", ID: ID(152), UserID: dave, Type: "totp", Times: deleted(-800)},
		},
		Segments: []domain.SegmentRecord{
			{Path: "deployments[0].segments[0]", ID: ID(201), DeploymentID: deployment1, Name: "beta", Type: domain.SegmentWorkspace, Times: times(-700, -650)},
			{Path: "deployments[0].segments[1]", ID: ID(202), DeploymentID: deployment1, Name: "enterprise", Type: domain.SegmentOrganization, Times: times(-700, -700)},
			{Path: "deployments[0].segments[2]", ID: ID(203), DeploymentID: deployment1, Name: "retired", Type: domain.SegmentWorkspace, Times: deleted(-700)},
			{Path: "deployments[0].segments[3]", ID: ID(205), DeploymentID: deployment1, Name: "alpha", Type: domain.SegmentWorkspace, Times: times(-690, -690)},
			{Path: "deployments[1].segments[0]", ID: ID(206), DeploymentID: deployment2, Name: "initech", Type: domain.SegmentOrganization, Times: times(-700, -700)},
		},
		Organizations: []domain.OrganizationRecord{
			{Path: "deployments[0].organizations[0]", ID: acme, DeploymentID: deployment1, Name: "Acme",
				ImageURL: "https://img.example.test/acme.png", Description: "Makers of everything",
				PublicMetadata: json.RawMessage(acmeMeta), PrivateMetadata: json.RawMessage(`{"secret":"s3cr3t"}`),
				EnforceMFA: true, EnableIPRestriction: true, WhitelistedIPs: []string{"203.0.113.0/24"},
				AutoAssignedWorkspaceID: ptr(wsMain), SegmentIDs: []int64{ID(202)}, Times: times(-600, -500)},
			{Path: "deployments[0].organizations[1]", ID: globex, DeploymentID: deployment1, Name: "Globex",
				Times: times(-590, -590)},
			{Path: "deployments[0].organizations[2]", ID: defunct, DeploymentID: deployment1, Name: "Defunct",
				Times: deleted(-580)},
			{Path: "deployments[1].organizations[0]", ID: initech, DeploymentID: deployment2, Name: "Initech",
				SegmentIDs: []int64{ID(206)}, Times: times(-600, -600)},
		},
		Workspaces: []domain.WorkspaceRecord{
			{Path: "deployments[0].organizations[0].workspaces[0]", ID: wsMain, DeploymentID: deployment1, OrganizationID: acme,
				Name: "Acme Main", ImageURL: "https://img.example.test/main.png", Description: "Where the work happens",
				PublicMetadata: json.RawMessage(mainMeta), PrivateMetadata: json.RawMessage(`{"internal":1}`),
				Enforce2FA: true, EnableIPRestriction: true,
				WhitelistedIPs: []string{"10.0.0.0/8", "2001:db8::/32", " 192.168.1.1 "},
				SegmentIDs:     []int64{ID(205), ID(201), ID(203)},
				Times:          domain.Times{CreatedAt: wsMainCreated, UpdatedAt: at(-400)}},
			{Path: "deployments[0].organizations[0].workspaces[1]", ID: wsLabs, DeploymentID: deployment1, OrganizationID: acme,
				Name: "Acme Labs", Times: times(-450, -440)},
			{Path: "deployments[0].organizations[0].workspaces[2]", ID: wsGone, DeploymentID: deployment1, OrganizationID: acme,
				Name: "Acme Gone", Times: deleted(-450)},
			{Path: "deployments[0].organizations[1].workspaces[0]", ID: wsGlobex, DeploymentID: deployment1, OrganizationID: globex,
				Name: "Globex HQ", Times: times(-430, -430)},
			{Path: "deployments[0].organizations[2].workspaces[0]", ID: wsDefunct, DeploymentID: deployment1, OrganizationID: defunct,
				Name: "Defunct HQ", Times: times(-420, -420)},
			{Path: "deployments[1].organizations[0].workspaces[0]", ID: wsInitech, DeploymentID: deployment2, OrganizationID: initech,
				Name: "Initech Floor 4", Times: times(-410, -410)},
		},
		OrganizationRoles: []domain.RoleRecord{
			{Path: "deployments[0].organizations[0].roles[0]", ID: ID(501), DeploymentID: deployment1, ScopeID: acme,
				Name: "admin", Permissions: []string{"organization:read", "organization:admin"}, Times: times(-300, -300)},
			{Path: "deployments[0].organizations[0].roles[1]", ID: ID(502), DeploymentID: deployment1, ScopeID: acme,
				Name: "member", Permissions: []string{"organization:read", "organization:members:read"}, Times: times(-300, -300)},
			{Path: "deployments[0].organizations[0].roles[2]", ID: ID(503), DeploymentID: deployment1, ScopeID: acme,
				Name: "retired", Permissions: []string{"organization:delete"}, Times: deleted(-300)},
			{Path: "deployments[0].organizations[1].roles[0]", ID: ID(504), DeploymentID: deployment1, ScopeID: globex,
				Name: "viewer", Times: times(-300, -300)},
			{Path: "deployments[1].organizations[0].roles[0]", ID: ID(505), DeploymentID: deployment2, ScopeID: initech,
				Name: "admin", Permissions: []string{"organization:admin"}, Times: times(-300, -300)},
		},
		WorkspaceRoles: []domain.RoleRecord{
			{Path: "deployments[0].organizations[0].workspaces[0].roles[0]", ID: ID(601), DeploymentID: deployment1, ScopeID: wsMain,
				Name: "admin", Permissions: []string{"workspace:admin", "workspace:read"}, Times: times(-200, -150)},
			{Path: "deployments[0].organizations[0].workspaces[0].roles[1]", ID: ID(602), DeploymentID: deployment1, ScopeID: wsMain,
				Name: "viewer", Permissions: []string{"workspace:read"}, Times: times(-200, -200)},
			{Path: "deployments[0].organizations[0].workspaces[0].roles[2]", ID: ID(603), DeploymentID: deployment1, ScopeID: wsMain,
				Name: "retired", Permissions: []string{"workspace:delete"}, Times: deleted(-200)},
			{Path: "deployments[0].organizations[0].workspaces[1].roles[0]", ID: ID(604), DeploymentID: deployment1, ScopeID: wsLabs,
				Name: "guest", Times: times(-200, -200)},
			{Path: "deployments[0].organizations[1].workspaces[0].roles[0]", ID: ID(605), DeploymentID: deployment1, ScopeID: wsGlobex,
				Name: "member", Permissions: []string{"workspace:read", "workspace:write"}, Times: times(-200, -200)},
			{Path: "deployments[1].organizations[0].workspaces[0].roles[0]", ID: ID(606), DeploymentID: deployment2, ScopeID: wsInitech,
				Name: "admin", Permissions: []string{"workspace:admin"}, Times: times(-200, -200)},
		},
		OrganizationMemberships: []domain.OrganizationMembershipRecord{
			{Path: "deployments[0].organizations[0].members[0]", ID: ID(701), OrganizationID: acme, UserID: alice,
				RoleIDs: []int64{ID(502), ID(501), ID(503)}, Times: times(-100, -100)},
			{Path: "deployments[0].organizations[1].members[0]", ID: ID(702), OrganizationID: globex, UserID: alice,
				RoleIDs: []int64{ID(504)}, Times: times(-100, -100)},
			{Path: "deployments[0].organizations[2].members[0]", ID: ID(703), OrganizationID: defunct, UserID: alice,
				Times: times(-100, -100)},
			{Path: "deployments[0].organizations[0].members[1]", ID: ID(704), OrganizationID: acme, UserID: bob,
				RoleIDs: []int64{ID(502)}, Times: times(-100, -100)},
			{Path: "deployments[0].organizations[0].members[2]", ID: ID(705), OrganizationID: acme, UserID: carol,
				RoleIDs: []int64{ID(501)}, Times: deleted(-100)},
			{Path: "deployments[1].organizations[0].members[0]", ID: ID(706), OrganizationID: initech, UserID: erin,
				RoleIDs: []int64{ID(505)}, Times: times(-100, -100)},
			{Path: "deployments[0].organizations[0].members[3]", ID: ID(707), OrganizationID: acme, UserID: dave,
				Times: times(-100, -100)},
		},
		WorkspaceMemberships: []domain.WorkspaceMembershipRecord{
			{Path: "deployments[0].organizations[0].workspaces[0].members[0]", ID: ID(801), WorkspaceID: wsMain,
				OrganizationID: acme, OrganizationMembershipID: ID(701), UserID: alice,
				PublicMetadata: json.RawMessage(aliceMainMeta),
				RoleIDs:        []int64{ID(602), ID(601), ID(603)}, Times: times(5, 6)},
			{Path: "deployments[0].organizations[0].workspaces[1].members[0]", ID: ID(802), WorkspaceID: wsLabs,
				OrganizationID: acme, OrganizationMembershipID: ID(701), UserID: alice,
				RoleIDs: []int64{ID(604)}, Times: times(5, 5)},
			{Path: "deployments[0].organizations[1].workspaces[0].members[0]", ID: ID(800), WorkspaceID: wsGlobex,
				OrganizationID: globex, OrganizationMembershipID: ID(702), UserID: alice,
				PublicMetadata: json.RawMessage(`{"tier":"gold"}`), Times: times(7, 8)},
			{Path: "deployments[0].organizations[0].workspaces[2].members[0]", ID: ID(803), WorkspaceID: wsGone,
				OrganizationID: acme, OrganizationMembershipID: ID(701), UserID: alice, Times: times(9, 9)},
			{Path: "deployments[0].organizations[2].workspaces[0].members[0]", ID: ID(804), WorkspaceID: wsDefunct,
				OrganizationID: defunct, OrganizationMembershipID: ID(703), UserID: alice, Times: times(9, 9)},
			{Path: "deployments[0].organizations[0].workspaces[1].members[1]", ID: ID(805), WorkspaceID: wsLabs,
				OrganizationID: acme, OrganizationMembershipID: ID(701), UserID: alice, Times: deleted(9)},
			{Path: "deployments[0].organizations[0].workspaces[0].members[1]", ID: ID(806), WorkspaceID: wsMain,
				OrganizationID: acme, OrganizationMembershipID: ID(704), UserID: bob,
				RoleIDs: []int64{ID(602)}, Times: times(3, 3)},
			{Path: "deployments[0].organizations[0].workspaces[0].members[2]", ID: ID(807), WorkspaceID: wsMain,
				OrganizationID: acme, OrganizationMembershipID: ID(705), UserID: carol, Times: times(3, 3)},
			{Path: "deployments[0].organizations[0].workspaces[1].members[2]", ID: ID(808), WorkspaceID: wsLabs,
				OrganizationID: acme, OrganizationMembershipID: ID(707), UserID: dave, Times: times(4, 4)},
			{Path: "deployments[1].organizations[0].workspaces[0].members[0]", ID: ID(809), WorkspaceID: wsInitech,
				OrganizationID: initech, OrganizationMembershipID: ID(706), UserID: erin,
				RoleIDs: []int64{ID(606)}, Times: times(2, 2)},
		},
	}
}

// Scaled is a data set of its own (ids and host derived from seed, so several
// can live in one database) where one user has n workspace memberships, each
// with two workspace roles, two segments on its workspace and a role-holding
// organization membership behind it; another user shares every workspace.
// It returns the query for that user's memberships.
func Scaled(seed int64, n int) (*domain.Dataset, domain.MembershipQuery) {
	next := 1<<62 + seed*10_000_000
	newID := func() int64 { next++; return next }
	dep, user, other := newID(), newID(), newID()
	ds := &domain.Dataset{
		Deployments: []domain.DeploymentRecord{{Path: "deployments[0]", ID: dep,
			Hosts: []string{fmt.Sprintf("scaled-%d.example.test", seed)}, Mode: domain.ModeProduction,
			PrivateKeyPEM: []byte(privatePEM1), PublicKeyPEM: []byte(publicPEM1), Times: times(0, 0)}},
		Users: []domain.UserRecord{
			{Path: "users[0]", ID: user, DeploymentID: dep, Email: "user@example.test", Times: times(0, 0)},
			{Path: "users[1]", ID: other, DeploymentID: dep, Email: "other@example.test", Times: times(0, 0)},
		},
	}
	var segs []int64
	for i := range 2 {
		id := newID()
		segs = append(segs, id)
		ds.Segments = append(ds.Segments, domain.SegmentRecord{Path: fmt.Sprintf("segments[%d]", i), ID: id,
			DeploymentID: dep, Name: fmt.Sprintf("segment %d", i), Type: domain.SegmentWorkspace, Times: times(0, 0)})
	}
	orgs := []int64{newID(), newID()}
	oms := map[int64][2]int64{} // organization → memberships of user, other
	for i, org := range orgs {
		role := newID()
		ds.Organizations = append(ds.Organizations, domain.OrganizationRecord{Path: fmt.Sprintf("organizations[%d]", i),
			ID: org, DeploymentID: dep, Name: fmt.Sprintf("org %d", i), SegmentIDs: segs, Times: times(0, 0)})
		ds.OrganizationRoles = append(ds.OrganizationRoles, domain.RoleRecord{Path: fmt.Sprintf("organization_roles[%d]", i),
			ID: role, DeploymentID: dep, ScopeID: org, Name: "admin", Permissions: []string{"organization:admin"}, Times: times(0, 0)})
		pair := [2]int64{newID(), newID()}
		oms[org] = pair
		for j, u := range []int64{user, other} {
			ds.OrganizationMemberships = append(ds.OrganizationMemberships, domain.OrganizationMembershipRecord{
				Path: fmt.Sprintf("organization_memberships[%d]", 2*i+j), ID: pair[j], OrganizationID: org, UserID: u,
				RoleIDs: []int64{role}, Times: times(0, 0)})
		}
	}
	for i := range n {
		org, ws := orgs[i%2], newID()
		ds.Workspaces = append(ds.Workspaces, domain.WorkspaceRecord{Path: fmt.Sprintf("workspaces[%d]", i), ID: ws,
			DeploymentID: dep, OrganizationID: org, Name: fmt.Sprintf("workspace %d", i),
			WhitelistedIPs: []string{"10.0.0.0/8"}, SegmentIDs: segs, Times: times(1, 1)})
		roles := []int64{newID(), newID()}
		for j, r := range roles {
			ds.WorkspaceRoles = append(ds.WorkspaceRoles, domain.RoleRecord{Path: fmt.Sprintf("workspace_roles[%d]", 2*i+j),
				ID: r, DeploymentID: dep, ScopeID: ws, Name: fmt.Sprintf("role %d", j),
				Permissions: []string{"workspace:read"}, Times: times(1, 1)})
		}
		for j, u := range []int64{user, other} {
			ds.WorkspaceMemberships = append(ds.WorkspaceMemberships, domain.WorkspaceMembershipRecord{
				Path: fmt.Sprintf("workspace_memberships[%d]", 2*i+j), ID: newID(), WorkspaceID: ws,
				OrganizationID: org, OrganizationMembershipID: oms[org][j], UserID: u,
				PublicMetadata: json.RawMessage(`{"i":1}`), RoleIDs: roles, Times: times(2+i, 2+i)})
		}
	}
	return ds, domain.MembershipQuery{DeploymentID: dep, UserID: user}
}
