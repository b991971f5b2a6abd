// Package storetest is the conformance suite every domain.Store passes, so the
// SQLite and PostgreSQL stores answer alike, down to the bytes of the
// memberships they return (compared with golden files under testdata).
//
// Tests only: it imports domain, ids, seed, store/fragment and store/migrate, and
// the database drivers for RawDB; never a store (whose tests import it).
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

var update = flag.Bool("update", false, "rewrite the storetest golden files")

// Mutator reaches session states the Store interface cannot write (nothing
// on the request path signs out or deletes). A store's test wraps its store to
// implement it; the session tests fail without it.
type Mutator interface {
	SignOut(ctx context.Context, signInID int64, at time.Time) error
	DeleteSession(ctx context.Context, sessionID int64, at time.Time) error
	ClearActiveSignIn(ctx context.Context, sessionID int64) error
	DeleteUser(ctx context.Context, userID int64, at time.Time) error
}

// Run runs the suite. open returns a fresh, migrated, empty store, closed by
// the caller's cleanup.
func Run(t *testing.T, open func(t *testing.T) domain.Store) {
	t.Run("Migrate", func(t *testing.T) { testMigrate(t, open(t)) })
	t.Run("LoadAllOrNothing", func(t *testing.T) { testLoadAllOrNothing(t, open(t)) })
	t.Run("LoadErrors", func(t *testing.T) { testLoadErrors(t, open) })
	t.Run("LoadCookieDomains", func(t *testing.T) { testCookieDomains(t, open) })
	t.Run("Session", func(t *testing.T) { testSession(t, open(t)) })
	t.Run("Refresh", func(t *testing.T) { testRefresh(t, open(t)) })
	t.Run("RewriteSigningKeys", func(t *testing.T) { testRewriteSigningKeys(t, open(t)) })
	t.Run("TenantsApart", func(t *testing.T) { testTenantsApart(t, open(t)) })
	t.Run("OrganizationMembershipOnRows", func(t *testing.T) { testOrganizationMembershipOnRows(t, open(t)) })
	t.Run("EveryWriter", func(t *testing.T) { testEveryWriter(t, open) })
	t.Run("MigrationHistory", func(t *testing.T) { testMigrationHistory(t, open(t)) })
	t.Run("DerivedReapplied", func(t *testing.T) { testDerivedReapplied(t, open(t)) })

	// The read tests share one loaded store.
	s := open(t)
	if err := s.Load(t.Context(), Fixture()); err != nil {
		t.Fatalf("Load(Fixture()): %v", err)
	}
	t.Run("DeploymentByHost", func(t *testing.T) { testDeploymentByHost(t, s) })
	t.Run("FindUser", func(t *testing.T) { testFindUser(t, s) })
	t.Run("Memberships", func(t *testing.T) { testMemberships(t, s) })
	t.Run("MembershipFields", func(t *testing.T) { testMembershipFields(t, s) })

	fresh := open(t)
	if err := fresh.Load(t.Context(), Fixture()); err != nil {
		t.Fatalf("Load(Fixture()): %v", err)
	}
	t.Run("Freshness", func(t *testing.T) { testFreshness(t, fresh) })
}

func testMigrate(t *testing.T, s domain.Store) {
	ctx := t.Context()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Fatalf("Empty() = %v, %v on a new store, want true", empty, err)
	}
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if empty, err := s.Empty(ctx); err != nil || empty {
		t.Fatalf("Empty() = %v, %v after Load, want false", empty, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a loaded store: %v", err)
	}
}

func testLoadAllOrNothing(t *testing.T, s domain.Store) {
	ctx := t.Context()
	ds := Fixture()
	last := ds.WorkspaceMemberships[0]
	last.Path = "deployments[0].organizations[0].workspaces[0].members[99]"
	ds.WorkspaceMemberships = append(ds.WorkspaceMemberships, last) // its id is taken
	err := s.Load(ctx, ds)
	if err == nil {
		t.Fatal("Load of a data set with a duplicate id succeeded")
	}
	if !errors.Is(err, domain.ErrConflict) || !strings.Contains(err.Error(), last.Path) {
		t.Errorf("Load error = %q, want ErrConflict naming %s", err, last.Path)
	}
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Errorf("Empty() = %v, %v after a failed Load, want true", empty, err)
	}
	if _, err := s.DeploymentByHost(ctx, "localhost"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("DeploymentByHost after a failed Load: %v, want ErrNotFound", err)
	}
	// The store is still usable.
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatalf("Load after a failed Load: %v", err)
	}
}

func testLoadErrors(t *testing.T, open func(t *testing.T) domain.Store) {
	tests := []struct {
		name     string
		edit     func(ds *domain.Dataset) string // returns the path the error must name
		want     []string                        // further substrings of the error
		conflict bool
	}{
		{
			name: "host of another deployment",
			edit: func(ds *domain.Dataset) string {
				ds.Deployments[1].Hosts = append(ds.Deployments[1].Hosts, "localhost")
				return ds.Deployments[1].Path
			},
			want: []string{`"localhost"`}, conflict: true,
		},
		{
			name: "email used in the deployment, other case",
			edit: func(ds *domain.Dataset) string {
				ds.Users = append(ds.Users, domain.UserRecord{Path: "deployments[0].users[9]", ID: ID(199),
					DeploymentID: deployment1, Email: "ALICE@example.test", Times: times(0, 0)})
				return "deployments[0].users[9]"
			},
			want: []string{"email", "ALICE@example.test"}, conflict: true,
		},
		{
			name: "user id taken",
			edit: func(ds *domain.Dataset) string {
				ds.Users = append(ds.Users, domain.UserRecord{Path: "deployments[0].users[9]", ID: bob,
					DeploymentID: deployment1, Email: "new@example.test", Times: times(0, 0)})
				return "deployments[0].users[9]"
			},
			want: []string{strconv.FormatInt(bob, 10)}, conflict: true,
		},
		{
			name: "organization id taken",
			edit: func(ds *domain.Dataset) string {
				o := ds.Organizations[1]
				o.Path = "deployments[0].organizations[9]"
				o.ID = acme
				ds.Organizations = append(ds.Organizations, o)
				return o.Path
			},
			want: []string{strconv.FormatInt(acme, 10)}, conflict: true,
		},
		{
			name: "unknown workspace",
			edit: func(ds *domain.Dataset) string {
				ds.WorkspaceMemberships[0].WorkspaceID = ID(499)
				return ds.WorkspaceMemberships[0].Path
			},
			want: []string{"workspace", strconv.FormatInt(ID(499), 10)},
		},
		{
			name: "unknown segment",
			edit: func(ds *domain.Dataset) string {
				ds.Workspaces[1].SegmentIDs = []int64{ID(299)}
				return ds.Workspaces[1].Path
			},
			want: []string{"segment", strconv.FormatInt(ID(299), 10)},
		},
		{
			name: "auto-assigned workspace of another organization",
			edit: func(ds *domain.Dataset) string {
				ds.Organizations[1].AutoAssignedWorkspaceID = ptr(wsMain)
				return ds.Organizations[1].Path
			},
			want: []string{"auto_assigned_workspace_id"},
		},
		// Links across tenants, refused whoever writes the link's scope
		// (PostgreSQL's loader writes it, its foreign keys check it).
		{
			name: "workspace role of another workspace",
			edit: func(ds *domain.Dataset) string {
				m := &ds.WorkspaceMemberships[1] // in Labs; 601 is Main's admin role
				m.RoleIDs = append(m.RoleIDs, ID(601))
				return m.Path + ".role_ids"
			},
			want: []string{"role " + strconv.FormatInt(ID(601), 10), "another workspace"},
		},
		{
			name: "organization role of another deployment",
			edit: func(ds *domain.Dataset) string {
				m := &ds.OrganizationMemberships[0] // in Acme; 505 is Initech's
				m.RoleIDs = append(m.RoleIDs, ID(505))
				return m.Path + ".role_ids"
			},
			want: []string{"role " + strconv.FormatInt(ID(505), 10), "another organization"},
		},
		{
			name: "segment of another deployment",
			edit: func(ds *domain.Dataset) string {
				w := &ds.Workspaces[0]
				w.SegmentIDs = append(w.SegmentIDs, ID(206))
				return w.Path + ".segment_ids"
			},
			want: []string{"segment " + strconv.FormatInt(ID(206), 10), "another deployment"},
		},
		{
			name: "workspace role in another deployment than its workspace",
			edit: func(ds *domain.Dataset) string {
				r := &ds.WorkspaceRoles[len(ds.WorkspaceRoles)-1] // Initech's workspace
				r.DeploymentID = deployment1
				return r.Path
			},
			want: []string{"not in deployment"},
		},
		{
			name: "public metadata not an object",
			edit: func(ds *domain.Dataset) string {
				ds.WorkspaceMemberships[2].PublicMetadata = json.RawMessage(`[1]`)
				return ds.WorkspaceMemberships[2].Path
			},
			want: []string{"public_metadata"},
		},
		{
			// Both stores refuse it before sending anything, with one message.
			name: "private metadata not JSON",
			edit: func(ds *domain.Dataset) string {
				ds.Workspaces[0].PrivateMetadata = json.RawMessage(`{"a":`)
				return ds.Workspaces[0].Path
			},
			want: []string{"invalid private_metadata"},
		},
		{
			name: "role listed twice",
			edit: func(ds *domain.Dataset) string {
				m := &ds.WorkspaceMemberships[0]
				m.RoleIDs = append(m.RoleIDs, m.RoleIDs[0])
				return m.Path + ".role_ids"
			},
			want: []string{"listed twice"}, conflict: true,
		},
		{
			name: "second live membership of a workspace",
			edit: func(ds *domain.Dataset) string {
				m := ds.WorkspaceMemberships[0]
				m.Path, m.ID, m.RoleIDs = "deployments[0].organizations[0].workspaces[0].members[9]", ID(899), nil
				ds.WorkspaceMemberships = append(ds.WorkspaceMemberships, m)
				return m.Path
			},
			want: []string{"already has a membership in workspace"}, conflict: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			ds := Fixture()
			path := tt.edit(ds)
			err := s.Load(t.Context(), ds)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			t.Logf("error: %v", err)
			for _, w := range append([]string{path}, tt.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if errors.Is(err, domain.ErrConflict) != tt.conflict {
				t.Errorf("errors.Is(err, ErrConflict) = %v, want %v", !tt.conflict, tt.conflict)
			}
			if empty, err := s.Empty(t.Context()); err != nil || !empty {
				t.Errorf("Empty() = %v, %v after a failed Load, want true", empty, err)
			}
		})
	}

	// A store sends each table in bulk; the record at fault is still named,
	// wherever it is among many.
	t.Run("unknown user among many rows", func(t *testing.T) {
		s := open(t)
		ds, _ := Scaled(1, 700)
		m := &ds.WorkspaceMemberships[len(ds.WorkspaceMemberships)/2+1]
		m.UserID = ID(498)
		err := s.Load(t.Context(), ds)
		if err == nil || !strings.Contains(err.Error(), m.Path+".") || !strings.Contains(err.Error(), strconv.FormatInt(ID(498), 10)) {
			t.Fatalf("Load: %v, want an error naming %s and user %d", err, m.Path, ID(498))
		}
		if empty, err := s.Empty(t.Context()); err != nil || !empty {
			t.Errorf("Empty() = %v, %v after a failed Load, want true", empty, err)
		}
	})

	t.Run("same data set twice", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if err := s.Load(ctx, Fixture()); err != nil {
			t.Fatal(err)
		}
		err := s.Load(ctx, Fixture())
		if !errors.Is(err, domain.ErrConflict) || !strings.Contains(err.Error(), "deployments[0]") {
			t.Fatalf("second Load: %v, want ErrConflict naming deployments[0]", err)
		}
		got, err := s.Memberships(ctx, domain.MembershipQuery{DeploymentID: deployment1, UserID: alice})
		if err != nil || len(got) != 3 {
			t.Fatalf("Memberships after a failed second Load: %d, %v; want the 3 of the first", len(got), err)
		}
	})
}

func testDeploymentByHost(t *testing.T, s domain.Store) {
	ctx := t.Context()
	// Host is the primary (first) host, whichever alias is asked.
	want1 := domain.Deployment{ID: deployment1, Host: "app.example.test",
		AllowedOrigins: []string{"https://app.example.test", "http://localhost:5173"}, Mode: domain.ModeProduction, IPAllowlistPerWorkspaceEnabled: true,
		EnforceMFAPerWorkspaceEnabled: true, PublicKeyPEM: []byte(publicPEM1)}
	want2 := domain.Deployment{ID: deployment2, Host: "other.example.test", AllowedOrigins: []string{}, Mode: domain.ModeStaging, PublicKeyPEM: []byte(publicPEM2)}
	for host, want := range map[string]domain.Deployment{
		"app.example.test": want1, "localhost": want1, "other.example.test": want2,
	} {
		got, err := s.DeploymentByHost(ctx, host)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("DeploymentByHost(%q) = %+v, %v; want %+v", host, got, err, want)
		}
	}
	for _, host := range []string{"unknown.example.test", "", "example.test"} {
		if _, err := s.DeploymentByHost(ctx, host); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("DeploymentByHost(%q) error = %v, want ErrNotFound", host, err)
		}
	}

	if key, err := s.SigningKey(ctx, deployment2); err != nil || string(key) != privatePEM2 {
		t.Errorf("SigningKey(deployment2) = %q, %v", key, err)
	}
	if _, err := s.SigningKey(ctx, ID(9)); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("SigningKey(unknown) error = %v, want ErrNotFound", err)
	}
}

func testFindUser(t *testing.T, s domain.Store) {
	ctx := t.Context()
	tests := []struct {
		deployment int64
		idOrEmail  string
		want       int64 // 0: ErrNotFound
	}{
		{deployment1, strconv.FormatInt(alice, 10), alice},
		{deployment1, "alice@example.test", alice},
		{deployment1, "ALICE@Example.TEST", alice},
		{deployment1, "bob@example.test", bob}, // stored as Bob@Example.test
		{deployment2, "alice@example.test", erin},
		{deployment2, strconv.FormatInt(alice, 10), 0},
		{deployment1, "nobody@example.test", 0},
		{deployment1, "frank@example.test", 0}, // deleted
		{deployment1, strconv.FormatInt(frank, 10), 0},
	}
	for _, tt := range tests {
		got, err := s.FindUser(ctx, tt.deployment, tt.idOrEmail)
		switch {
		case tt.want == 0 && !errors.Is(err, domain.ErrNotFound):
			t.Errorf("FindUser(%d, %q) = %+v, %v; want ErrNotFound", tt.deployment, tt.idOrEmail, got, err)
		case tt.want != 0 && (err != nil || got.ID != tt.want || got.DeploymentID != tt.deployment):
			t.Errorf("FindUser(%d, %q) = %+v, %v; want user %d", tt.deployment, tt.idOrEmail, got, err, tt.want)
		}
	}
	if got, _ := s.FindUser(ctx, deployment1, "bob@example.test"); got.Email != "Bob@Example.test" {
		t.Errorf("FindUser kept email %q, want it as stored, Bob@Example.test", got.Email)
	}
}

func testSession(t *testing.T, s domain.Store) {
	ctx := t.Context()
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	created := at(10)
	newSession := func(user, n int64) domain.NewSession {
		return domain.NewSession{DeploymentID: deployment1, UserID: user,
			SessionID: ID(9000 + n), SignInID: ID(9100 + n), RotatingTokenID: ID(9200 + n),
			CreatedAt: created, SignInExpiresAt: created.Add(24 * time.Hour), TokenValidUntil: created.Add(time.Hour)}
	}
	// One session per user with the MFA state the fixture gives them.
	mfa := map[int64]bool{alice: true, bob: true, carol: false, dave: false}
	for i, user := range []int64{alice, bob, carol, dave} {
		ns := newSession(user, int64(i))
		if err := s.CreateSession(ctx, ns); err != nil {
			t.Fatalf("CreateSession(user %d): %v", user, err)
		}
		got, err := s.Session(ctx, deployment1, ns.SessionID)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		want := domain.SessionState{ID: ns.SessionID, DeploymentID: deployment1, CreatedAt: created, UpdatedAt: created,
			SignIn: &domain.SignIn{ID: ns.SignInID, SessionID: ns.SessionID, UserID: user,
				ExpiresAt: ns.SignInExpiresAt, UserHasMFA: mfa[user]}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Session of user %d:\n got %+v %+v\nwant %+v %+v", user, got, got.SignIn, want, want.SignIn)
		}
	}

	for _, bad := range []struct {
		name string
		ns   domain.NewSession
		want error
	}{
		{"session id taken", newSession(alice, 0), domain.ErrConflict},
		{"user of another deployment", func() domain.NewSession { ns := newSession(erin, 5); return ns }(), domain.ErrNotFound},
		{"deleted user", newSession(frank, 6), domain.ErrNotFound},
		{"unknown user", newSession(ID(199), 7), domain.ErrNotFound},
		{"sign-in id taken", func() domain.NewSession { ns := newSession(alice, 8); ns.SignInID = ID(9100); return ns }(), domain.ErrConflict},
	} {
		if err := s.CreateSession(ctx, bad.ns); !errors.Is(err, bad.want) {
			t.Errorf("CreateSession, %s: %v, want %v", bad.name, err, bad.want)
		}
		if _, err := s.Session(ctx, deployment1, bad.ns.SessionID); bad.want == domain.ErrNotFound && !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("CreateSession, %s, left a session behind: %v", bad.name, err)
		}
	}

	aliceSession := newSession(alice, 0)
	for _, tt := range []struct {
		name       string
		deployment int64
		session    int64
	}{
		{"other deployment", deployment2, aliceSession.SessionID},
		{"unknown session", deployment1, ID(9999)},
	} {
		if _, err := s.Session(ctx, tt.deployment, tt.session); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Session, %s: %v, want ErrNotFound", tt.name, err)
		}
	}

	m, ok := s.(Mutator)
	if !ok {
		t.Fatalf("%T does not implement storetest.Mutator: wrap it in the store's test", s)
	}
	later := at(11)
	state := func(id int64) domain.SessionState {
		t.Helper()
		st, err := s.Session(ctx, deployment1, id)
		if err != nil {
			t.Fatalf("Session(%d): %v", id, err)
		}
		return st
	}
	if err := m.SignOut(ctx, aliceSession.SignInID, later); err != nil {
		t.Fatal(err)
	}
	if st := state(aliceSession.SessionID); st.SignIn == nil || !st.SignIn.SignedOut || st.Deleted {
		t.Errorf("after SignOut: %+v %+v, want a signed-out sign-in", st, st.SignIn)
	}
	if err := m.DeleteSession(ctx, aliceSession.SessionID, later); err != nil {
		t.Fatal(err)
	}
	if st := state(aliceSession.SessionID); !st.Deleted {
		t.Errorf("after DeleteSession: %+v, want Deleted", st)
	}
	bobSession := newSession(bob, 1)
	if err := m.ClearActiveSignIn(ctx, bobSession.SessionID); err != nil {
		t.Fatal(err)
	}
	if st := state(bobSession.SessionID); st.SignIn != nil || st.Deleted {
		t.Errorf("without an active sign-in: %+v %+v, want SignIn nil", st, st.SignIn)
	}
	carolSession := newSession(carol, 2)
	if err := m.DeleteUser(ctx, carol, later); err != nil {
		t.Fatal(err)
	}
	if st := state(carolSession.SessionID); st.SignIn == nil || !st.SignIn.UserDeleted {
		t.Errorf("after DeleteUser: %+v %+v, want UserDeleted", st, st.SignIn)
	}
}

// membershipCases are the queries compared with golden files; a case without
// golden must return no membership (nil and empty are both accepted: the
// service renders either as []).
var membershipCases = []struct {
	name   string
	q      domain.MembershipQuery
	want   []int64 // membership ids in order
	golden string
}{
	{"alice", domain.MembershipQuery{DeploymentID: deployment1, UserID: alice}, []int64{ID(800), ID(802), ID(801)}, "alice"},
	{"alice in Acme", domain.MembershipQuery{DeploymentID: deployment1, UserID: alice, OrganizationID: ptr(acme)},
		[]int64{ID(802), ID(801)}, "alice_acme"},
	{"alice in Globex", domain.MembershipQuery{DeploymentID: deployment1, UserID: alice, OrganizationID: ptr(globex)},
		[]int64{ID(800)}, "alice_globex"},
	{"alice in a deleted organization", domain.MembershipQuery{DeploymentID: deployment1, UserID: alice, OrganizationID: ptr(defunct)}, nil, ""},
	{"alice in another deployment's organization", domain.MembershipQuery{DeploymentID: deployment1, UserID: alice, OrganizationID: ptr(initech)}, nil, ""},
	{"alice in no organization", domain.MembershipQuery{DeploymentID: deployment1, UserID: alice, OrganizationID: ptr(ID(399))}, nil, ""},
	{"alice in another deployment", domain.MembershipQuery{DeploymentID: deployment2, UserID: alice}, nil, ""},
	{"bob", domain.MembershipQuery{DeploymentID: deployment1, UserID: bob}, []int64{ID(806)}, "bob"},
	{"carol, organization membership deleted", domain.MembershipQuery{DeploymentID: deployment1, UserID: carol}, nil, ""},
	{"dave", domain.MembershipQuery{DeploymentID: deployment1, UserID: dave}, []int64{ID(808)}, "dave"},
	{"erin", domain.MembershipQuery{DeploymentID: deployment2, UserID: erin}, []int64{ID(809)}, "erin"},
	{"erin in the first deployment", domain.MembershipQuery{DeploymentID: deployment1, UserID: erin}, nil, ""},
	{"unknown user", domain.MembershipQuery{DeploymentID: deployment1, UserID: ID(199)}, nil, ""},
}

func testMemberships(t *testing.T, s domain.Store) {
	for _, tt := range membershipCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Memberships(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, m := range got {
				ids = append(ids, m.ID)
				if m.UserID != tt.q.UserID {
					t.Errorf("membership %d of user %d, want %d", m.ID, m.UserID, tt.q.UserID)
				}
			}
			if !slices.Equal(ids, tt.want) {
				t.Fatalf("membership ids = %v, want %v", ids, tt.want)
			}
			if tt.golden != "" {
				checkGolden(t, tt.golden, got)
			}
		})
	}
}

// testMembershipFields checks alice's answer field by field, so a wrong
// golden file cannot hide a wrong store.
func testMembershipFields(t *testing.T, s domain.Store) {
	got, err := s.Memberships(t.Context(), domain.MembershipQuery{DeploymentID: deployment1, UserID: alice})
	if err != nil || len(got) != 3 {
		t.Fatalf("Memberships = %d, %v; want 3", len(got), err)
	}
	got = stripFragments(t, got)
	globexM, labsM, mainM := got[0], got[1], got[2]
	ds := Fixture()

	// Membership 801: roles, permissions, metadata.
	if mainM.OrganizationID != acme || mainM.UserID != alice {
		t.Errorf("membership 801 references: %d %d", mainM.OrganizationID, mainM.UserID)
	}
	wantRoles := []*domain.Role{
		{ID: ID(601), Name: "admin", Permissions: []string{"workspace:admin", "workspace:read"}, CreatedAt: at(-200), UpdatedAt: at(-150)},
		{ID: ID(602), Name: "viewer", Permissions: []string{"workspace:read"}, CreatedAt: at(-200), UpdatedAt: at(-200)},
	}
	if !reflect.DeepEqual(mainM.Roles, wantRoles) {
		t.Errorf("roles of 801 = %+v\nwant %+v", mainM.Roles, wantRoles)
	}
	wantPerms := []string{"organization:admin", "organization:members:read", "organization:read"}
	if !reflect.DeepEqual(mainM.OrganizationPermissions, wantPerms) {
		t.Errorf("organization permissions of 801 = %q, want %q (distinct, sorted, deleted role left out)",
			mainM.OrganizationPermissions, wantPerms)
	}
	sameJSON(t, "public metadata of 801", mainM.PublicMetadata, aliceMainMeta)
	if !mainM.CreatedAt.Equal(at(5)) || !mainM.UpdatedAt.Equal(at(6)) {
		t.Errorf("801 times = %v, %v", mainM.CreatedAt, mainM.UpdatedAt)
	}

	// Its workspace: own fields and timestamps, live segments by id, count.
	w := mainM.Workspace
	wantCreated := ds.Workspaces[0].CreatedAt.UTC()
	if !w.CreatedAt.Equal(wantCreated) || w.CreatedAt.Location() != time.UTC || w.CreatedAt.Nanosecond() != 654321000 {
		t.Errorf("workspace created_at = %v, want %v in UTC with its microseconds", w.CreatedAt, wantCreated)
	}
	if !w.UpdatedAt.Equal(at(-400)) || w.CreatedAt.Equal(mainM.CreatedAt) {
		t.Errorf("workspace updated_at = %v: must be the workspace's own", w.UpdatedAt)
	}
	if w.ID != wsMain || w.OrganizationID != acme || w.Name != "Acme Main" || w.ImageURL != "https://img.example.test/main.png" ||
		w.Description != "Where the work happens" || !w.Enforce2FA || !w.EnableIPRestriction || w.MemberCount != 3 {
		t.Errorf("workspace = %+v", w)
	}
	if want := []string{"10.0.0.0/8", "2001:db8::/32", " 192.168.1.1 "}; !reflect.DeepEqual(w.WhitelistedIPs, want) {
		t.Errorf("workspace whitelisted IPs = %q, want %q", w.WhitelistedIPs, want)
	}
	sameJSON(t, "workspace public metadata", w.PublicMetadata, mainMeta)
	wantSegs := []domain.Segment{
		{ID: ID(201), DeploymentID: deployment1, Name: "beta", Type: domain.SegmentWorkspace, CreatedAt: at(-700), UpdatedAt: at(-650)},
		{ID: ID(205), DeploymentID: deployment1, Name: "alpha", Type: domain.SegmentWorkspace, CreatedAt: at(-690), UpdatedAt: at(-690)},
	}
	if !reflect.DeepEqual(w.Segments, wantSegs) {
		t.Errorf("workspace segments = %+v\nwant %+v", w.Segments, wantSegs)
	}

	// Its organization.
	o := mainM.Organization
	if o.ID != acme || o.Name != "Acme" || o.ImageURL != "https://img.example.test/acme.png" || o.Description != "Makers of everything" ||
		!o.EnforceMFA || !o.EnableIPRestriction || o.MemberCount != 3 ||
		o.AutoAssignedWorkspaceID == nil || *o.AutoAssignedWorkspaceID != wsMain ||
		!o.CreatedAt.Equal(at(-600)) || !o.UpdatedAt.Equal(at(-500)) || o.CreatedAt.Location() != time.UTC {
		t.Errorf("organization = %+v", o)
	}
	if !reflect.DeepEqual(o.WhitelistedIPs, []string{"203.0.113.0/24"}) {
		t.Errorf("organization whitelisted IPs = %q", o.WhitelistedIPs)
	}
	if len(o.Segments) != 1 || o.Segments[0].ID != ID(202) || o.Segments[0].Type != domain.SegmentOrganization {
		t.Errorf("organization segments = %+v", o.Segments)
	}
	sameJSON(t, "organization public metadata", o.PublicMetadata, acmeMeta)

	// Membership 802: a role without permissions, empty metadata, no IPs.
	if len(labsM.Roles) != 1 || labsM.Roles[0].ID != ID(604) || labsM.Roles[0].Permissions == nil || len(labsM.Roles[0].Permissions) != 0 {
		t.Errorf("roles of 802 = %#v, want guest with non-nil empty permissions", labsM.Roles)
	}
	sameJSON(t, "public metadata of 802", labsM.PublicMetadata, `{}`)
	if labsM.Workspace.WhitelistedIPs == nil || len(labsM.Workspace.WhitelistedIPs) != 0 || labsM.Workspace.MemberCount != 2 {
		t.Errorf("workspace of 802 = %+v, want no IPs (non-nil) and 2 members", labsM.Workspace)
	}
	if labsM.Workspace.Segments == nil || len(labsM.Workspace.Segments) != 0 {
		t.Errorf("segments of workspace of 802 = %#v, want non-nil empty", labsM.Workspace.Segments)
	}

	// Membership 800: no roles; its organization membership's role has none.
	if globexM.Roles == nil || len(globexM.Roles) != 0 {
		t.Errorf("roles of 800 = %#v, want non-nil empty", globexM.Roles)
	}
	if globexM.OrganizationPermissions == nil || len(globexM.OrganizationPermissions) != 0 {
		t.Errorf("organization permissions of 800 = %#v, want non-nil empty", globexM.OrganizationPermissions)
	}
	og := globexM.Organization
	if og.AutoAssignedWorkspaceID != nil || og.MemberCount != 1 || og.WhitelistedIPs == nil || og.Segments == nil {
		t.Errorf("organization of 800 = %+v", og)
	}
	sameJSON(t, "public metadata of Globex", og.PublicMetadata, `{}`)
	if globexM.Workspace.MemberCount != 1 {
		t.Errorf("Globex HQ member count = %d, want 1", globexM.Workspace.MemberCount)
	}
}

// sameJSON compares a returned JSON value with the loaded text, compacted.
func sameJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	// The same value: stores may hand metadata back re-encoded (keys
	// sorted, HTML-safe escapes), as the answer shows it.
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: %q is not JSON: %v", what, got, err)
		return
	}
	json.Unmarshal([]byte(want), &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// checkGolden compares the memberships' JSON encoding byte for byte with
// testdata/<name>.golden.json (indented for review); -update rewrites it.
func checkGolden(t *testing.T, name string, got []domain.Membership) {
	t.Helper()
	got = slices.Clone(got)
	for i := range got { // as stored: in the order each store keeps keys
		got[i].PublicMetadata = canonical(t, got[i].PublicMetadata)
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("memberships differ from %s (run with -update if the change is right):\n%s", path, firstDiff(string(want), string(b)))
	}
}

// canonical is a JSON object with its keys sorted, numbers as written.
func canonical(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v map[string]any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("metadata %s: %v", raw, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// firstDiff shows the first differing line, enough to start looking.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n want " + w + "\n  got " + g
		}
	}
	return ""
}

// stripFragments returns the memberships without their fragments'
// versions, for comparing field by field.
func stripFragments(t *testing.T, ms []domain.Membership) []domain.Membership {
	t.Helper()
	out := slices.Clone(ms)
	for i := range out {
		m := &out[i]
		w, o := *m.Workspace, *m.Organization // shared with the cache: strip copies
		w.Fragment, o.Fragment = domain.Fragment{}, domain.Fragment{}
		m.Workspace, m.Organization = &w, &o
		m.Roles = slices.Clone(m.Roles)
		for j, r := range m.Roles {
			stripped := *r
			stripped.Fragment = domain.Fragment{}
			m.Roles[j] = &stripped
		}
	}
	return out
}
