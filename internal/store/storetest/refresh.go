package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// testRefresh: rotation, joining within the grace window, reuse after it
// revoking the session, rejection of foreign or stale tokens, and concurrent
// refreshes converging on one successor.
func testRefresh(t *testing.T, s domain.Store) {
	ctx := t.Context()
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	created := at(10)
	session := func(n int64) domain.NewSession {
		ns := domain.NewSession{DeploymentID: deployment1, UserID: alice,
			SessionID: ID(9500 + n), SignInID: ID(9600 + n), RotatingTokenID: ID(9700 + n),
			CreatedAt: created, SignInExpiresAt: created.Add(24 * time.Hour), TokenValidUntil: created.Add(time.Hour)}
		if err := s.CreateSession(ctx, ns); err != nil {
			t.Fatal(err)
		}
		return ns
	}
	const grace = 10 * time.Second
	refresh := func(ns domain.NewSession, token, successor int64, now time.Time) domain.RefreshResult {
		t.Helper()
		r, err := s.Refresh(ctx, domain.RefreshRequest{DeploymentID: ns.DeploymentID, SessionID: ns.SessionID,
			TokenID: token, SuccessorID: successor, Now: now, Grace: grace})
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		return r
	}
	expect := func(name string, got, want domain.RefreshResult) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}

	a := session(0)
	t1 := created.Add(30 * time.Minute)
	expect("first refresh", refresh(a, a.RotatingTokenID, ID(9800), t1), domain.RefreshResult{Outcome: domain.RefreshRotated, SuccessorID: ID(9800)})
	if st, err := s.Session(ctx, deployment1, a.SessionID); err != nil || st.Deleted || !st.UpdatedAt.Equal(t1) {
		t.Errorf("session after rotation: %+v %v (updated_at should be the rotation time)", st, err)
	}
	expect("same token within grace", refresh(a, a.RotatingTokenID, ID(9801), t1.Add(grace)), domain.RefreshResult{Outcome: domain.RefreshJoined, SuccessorID: ID(9800)})
	expect("successor rotates on", refresh(a, ID(9800), ID(9802), t1.Add(time.Minute)), domain.RefreshResult{Outcome: domain.RefreshRotated, SuccessorID: ID(9802)})
	expect("old token after grace", refresh(a, a.RotatingTokenID, ID(9803), t1.Add(grace+time.Second)), domain.RefreshResult{Outcome: domain.RefreshReused})
	if st, err := s.Session(ctx, deployment1, a.SessionID); err != nil || !st.Deleted {
		t.Errorf("reuse must revoke the session: %+v %v", st, err)
	}
	expect("revoked session's newest token", refresh(a, ID(9802), ID(9804), t1.Add(2*time.Minute)), domain.RefreshResult{Outcome: domain.RefreshRejected})

	b := session(1)
	expect("past valid_until", refresh(b, b.RotatingTokenID, ID(9810), created.Add(time.Hour)), domain.RefreshResult{Outcome: domain.RefreshRejected})
	expect("another session's token", refresh(b, ID(9802), ID(9811), t1), domain.RefreshResult{Outcome: domain.RefreshRejected})
	expect("unknown token", refresh(b, ID(9999), ID(9812), t1), domain.RefreshResult{Outcome: domain.RefreshRejected})
	other := b
	other.DeploymentID = deployment2
	expect("other deployment", refresh(other, b.RotatingTokenID, ID(9813), t1), domain.RefreshResult{Outcome: domain.RefreshRejected})

	// Eight tabs refresh the same token at once: one rotation, all on it.
	c := session(2)
	var wg sync.WaitGroup
	results := make([]domain.RefreshResult, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.Refresh(ctx, domain.RefreshRequest{DeploymentID: deployment1, SessionID: c.SessionID,
				TokenID: c.RotatingTokenID, SuccessorID: ID(9820 + int64(i)), Now: t1, Grace: grace})
		}()
	}
	wg.Wait()
	rotated := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("concurrent refresh: %v", errs[i])
		}
		if r.Outcome == domain.RefreshRotated {
			rotated++
		}
		if r.SuccessorID != results[0].SuccessorID || (r.Outcome != domain.RefreshRotated && r.Outcome != domain.RefreshJoined) {
			t.Errorf("concurrent refreshes diverge: %+v", results)
			break
		}
	}
	if rotated != 1 {
		t.Errorf("%d rotations, want 1: %+v", rotated, results)
	}
}
