package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// testRefresh: rotation, joining within the grace window or while the
// successor was never presented, reuse after that revoking the session,
// rejection of foreign or stale tokens and of sessions no longer live (read
// inside the transaction), and concurrent refreshes converging on one
// successor.
func testRefresh(t *testing.T, s domain.Store) {
	ctx := t.Context()
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	created := at(10)
	session := func(n int64, mod ...func(*domain.NewSession)) domain.NewSession {
		ns := domain.NewSession{DeploymentID: deployment1, UserID: alice,
			SessionID: ID(9500 + n), SignInID: ID(9600 + n), RotatingTokenID: ID(9700 + n),
			CreatedAt: created, SignInExpiresAt: created.Add(24 * time.Hour), TokenValidUntil: created.Add(time.Hour)}
		for _, m := range mod {
			m(&ns)
		}
		if err := s.CreateSession(ctx, ns); err != nil {
			t.Fatal(err)
		}
		return ns
	}
	const grace, pending = 10 * time.Second, 2 * time.Minute
	refresh := func(ns domain.NewSession, token, successor int64, now time.Time) domain.RefreshResult {
		t.Helper()
		r, err := s.Refresh(ctx, domain.RefreshRequest{DeploymentID: ns.DeploymentID, SessionID: ns.SessionID,
			TokenID: token, SuccessorID: successor, Now: now, Grace: grace, PendingWindow: pending})
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		return r
	}
	validUntil := created.Add(time.Hour) // the token's valid_until, before the sign-in's expiry
	expect := func(name string, got, want domain.RefreshResult) {
		t.Helper()
		if want.Outcome == domain.RefreshRotated || want.Outcome == domain.RefreshJoined {
			want.ValidUntil = validUntil
		}
		if got.Outcome != want.Outcome || got.SuccessorID != want.SuccessorID || !got.ValidUntil.Equal(want.ValidUntil) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}

	a := session(0)
	t1 := created.Add(30 * time.Minute)
	expect("first refresh", refresh(a, a.RotatingTokenID, ID(9800), t1), domain.RefreshResult{Outcome: domain.RefreshRotated, SuccessorID: ID(9800)})
	if st, err := s.Session(ctx, deployment1, a.SessionID); err != nil || st.Deleted || !st.UpdatedAt.Equal(t1) || st.PendingTokenID != ID(9800) {
		t.Errorf("session after rotation: %+v %v (updated_at should be the rotation time, the successor pending)", st, err)
	}
	expect("same token within grace", refresh(a, a.RotatingTokenID, ID(9801), t1.Add(grace)), domain.RefreshResult{Outcome: domain.RefreshJoined, SuccessorID: ID(9800)})
	expect("successor rotates on", refresh(a, ID(9800), ID(9802), t1.Add(time.Minute)), domain.RefreshResult{Outcome: domain.RefreshRotated, SuccessorID: ID(9802)})
	expect("old token after grace", refresh(a, a.RotatingTokenID, ID(9803), t1.Add(grace+time.Second)), domain.RefreshResult{Outcome: domain.RefreshReused})
	if st, err := s.Session(ctx, deployment1, a.SessionID); err != nil || !st.Deleted {
		t.Errorf("reuse must revoke the session: %+v %v", st, err)
	}
	expect("revoked session's newest token", refresh(a, ID(9802), ID(9804), t1.Add(2*time.Minute)), domain.RefreshResult{Outcome: domain.RefreshRejected})

	// Past the grace window, the old token joins a successor never presented
	// (the client may not have received it), and counts as reuse once it was.
	d := session(3)
	expect("rotation", refresh(d, d.RotatingTokenID, ID(9830), t1), domain.RefreshResult{Outcome: domain.RefreshRotated, SuccessorID: ID(9830)})
	expect("unseen successor, after grace", refresh(d, d.RotatingTokenID, ID(9831), t1.Add(time.Minute)), domain.RefreshResult{Outcome: domain.RefreshJoined, SuccessorID: ID(9830)})
	if err := s.TokenSeen(ctx, deployment1, d.SessionID, ID(9999)); err != nil {
		t.Fatal(err)
	}
	expect("another token seen", refresh(d, d.RotatingTokenID, ID(9832), t1.Add(time.Minute)), domain.RefreshResult{Outcome: domain.RefreshJoined, SuccessorID: ID(9830)})
	if err := s.TokenSeen(ctx, deployment1, d.SessionID, ID(9830)); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Session(ctx, deployment1, d.SessionID); err != nil || st.PendingTokenID != 0 {
		t.Errorf("after TokenSeen: %+v %v, want no pending token", st, err)
	}
	expect("seen successor, after grace", refresh(d, d.RotatingTokenID, ID(9833), t1.Add(time.Minute)), domain.RefreshResult{Outcome: domain.RefreshReused})

	// The pending window is bounded: an old token replayed later — the
	// client gone quiet after its rotation — is reuse, successor unseen.
	q := session(7)
	expect("rotation, never presented", refresh(q, q.RotatingTokenID, ID(9850), t1), domain.RefreshResult{Outcome: domain.RefreshRotated, SuccessorID: ID(9850)})
	expect("unseen successor, at the window's end", refresh(q, q.RotatingTokenID, ID(9851), t1.Add(pending)), domain.RefreshResult{Outcome: domain.RefreshJoined, SuccessorID: ID(9850)})
	expect("unseen successor, past the window", refresh(q, q.RotatingTokenID, ID(9852), t1.Add(pending+time.Second)), domain.RefreshResult{Outcome: domain.RefreshReused})

	// Skewed clocks: an instance whose clock runs behind the rotating one
	// sees the rotation in its future. Within the tolerated skew it joins;
	// beyond it, how long ago is unknown, so it neither joins (a replay long
	// after the grace) nor revokes (a user signed out for a clock).
	const skew = 5 * time.Second
	skewed := func(ns domain.NewSession, successor int64, now time.Time) domain.RefreshResult {
		t.Helper()
		r, err := s.Refresh(ctx, domain.RefreshRequest{DeploymentID: ns.DeploymentID, SessionID: ns.SessionID,
			TokenID: ns.RotatingTokenID, SuccessorID: successor, Now: now, Grace: grace, PendingWindow: pending, Skew: skew})
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		return r
	}
	k := session(8)
	expect("rotation by a clock ahead", refresh(k, k.RotatingTokenID, ID(9860), t1), domain.RefreshResult{Outcome: domain.RefreshRotated, SuccessorID: ID(9860)})
	expect("a clock behind, within the skew", skewed(k, ID(9861), t1.Add(-skew)), domain.RefreshResult{Outcome: domain.RefreshJoined, SuccessorID: ID(9860)})
	expect("a clock behind, past the skew", skewed(k, ID(9862), t1.Add(-time.Hour)), domain.RefreshResult{Outcome: domain.RefreshRejected})
	if st, err := s.Session(ctx, deployment1, k.SessionID); err != nil || st.Deleted {
		t.Errorf("a skewed clock must not revoke the session: %+v %v", st, err)
	}

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
				TokenID: c.RotatingTokenID, SuccessorID: ID(9820 + int64(i)), Now: t1, Grace: grace, PendingWindow: pending})
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

	// The transaction re-reads the sign-in and user: a sign-out, an expired
	// sign-in or a deleted user the caller's (cached) state does not show yet
	// refreshes nothing.
	m := s.(Mutator)
	e, g := session(4), session(6)
	f := session(5, func(ns *domain.NewSession) { ns.SignInExpiresAt = created.Add(20 * time.Minute) })
	if err := m.SignOut(ctx, e.SignInID, t1); err != nil {
		t.Fatal(err)
	}
	expect("signed-out sign-in", refresh(e, e.RotatingTokenID, ID(9840), t1), domain.RefreshResult{Outcome: domain.RefreshRejected})
	expect("expired sign-in", refresh(f, f.RotatingTokenID, ID(9841), t1), domain.RefreshResult{Outcome: domain.RefreshRejected})
	if err := m.DeleteUser(ctx, alice, t1); err != nil {
		t.Fatal(err)
	}
	expect("deleted user", refresh(g, g.RotatingTokenID, ID(9842), t1), domain.RefreshResult{Outcome: domain.RefreshRejected})
	for _, ns := range []domain.NewSession{e, f, g} {
		if st, err := s.Session(ctx, deployment1, ns.SessionID); err != nil || st.PendingTokenID != 0 || !st.UpdatedAt.Equal(created) {
			t.Errorf("a refused refresh wrote: %+v %v", st, err)
		}
	}
}
