package storetest

import (
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// Counter is a store that counts the statements it sends to its database.
type Counter interface {
	domain.Store
	Statements() int64
}

// StatementsPerRequest checks, counting at the store's driver, that a
// Memberships call costs one statement whether it returns 1, 10 or 100
// memberships, and that a whole request (deployment by host, session,
// memberships) costs three. s must be fresh and empty.
func StatementsPerRequest(t *testing.T, s Counter) {
	ctx := t.Context()
	counts := map[int]int64{}
	for i, n := range []int{1, 10, 100} {
		ds, q := Scaled(int64(i+1), n)
		if err := s.Load(ctx, ds); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Memberships(ctx, q); err != nil { // the first call may prepare
			t.Fatal(err)
		}
		before := s.Statements()
		got, err := s.Memberships(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		counts[n] = s.Statements() - before
		if len(got) != n || len(got[0].Roles) != 2 || len(got[0].Workspace.Segments) != 2 ||
			len(got[0].Organization.Segments) != 2 || len(got[0].OrganizationPermissions) != 1 || got[0].Workspace.MemberCount != 2 {
			t.Fatalf("n=%d: got %d memberships, first %+v", n, len(got), got[0])
		}
		t.Logf("Memberships returning %3d memberships: %d statement(s)", n, counts[n])
	}
	if counts[1] != 1 || counts[10] != 1 || counts[100] != 1 {
		t.Errorf("statements per Memberships call by size = %v, want 1 each", counts)
	}

	ds, q := Scaled(9, 1)
	if err := s.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ns := domain.NewSession{DeploymentID: q.DeploymentID, UserID: q.UserID, SessionID: 1, SignInID: 2, RotatingTokenID: 3,
		CreatedAt: now, SignInExpiresAt: now.Add(time.Hour), TokenValidUntil: now.Add(time.Hour)}
	before := s.Statements()
	if err := s.CreateSession(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Logf("CreateSession: %d statements", s.Statements()-before)
	request := func() {
		if _, err := s.DeploymentByHost(ctx, "scaled-9.example.test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, q.DeploymentID, ns.SessionID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Memberships(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	request()
	before = s.Statements()
	request()
	perRequest := s.Statements() - before
	t.Logf("a request (DeploymentByHost + Session + Memberships): %d statements", perRequest)
	if perRequest != 3 {
		t.Errorf("a request costs %d statements, want 3", perRequest)
	}
}
