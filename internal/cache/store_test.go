package cache

import (
	"context"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// fakeStore counts reads and answers from fields the test changes.
type fakeStore struct {
	domain.Store
	deployments, sessions int
	session               domain.SessionState
}

func (f *fakeStore) DeploymentByHost(_ context.Context, host string) (domain.Deployment, error) {
	f.deployments++
	if host != "a.test" {
		return domain.Deployment{}, domain.ErrNotFound
	}
	return domain.Deployment{ID: 1, Host: host}, nil
}

func (f *fakeStore) Session(context.Context, int64, int64) (domain.SessionState, error) {
	f.sessions++
	return f.session, nil
}

func (f *fakeStore) Refresh(context.Context, domain.RefreshRequest) (domain.RefreshResult, error) {
	f.session.Deleted = true // as reuse does
	return domain.RefreshResult{Outcome: domain.RefreshReused}, nil
}

func live() domain.SessionState {
	return domain.SessionState{ID: 7, DeploymentID: 1, SignIn: &domain.SignIn{ID: 8, SessionID: 7, UserID: 9}}
}

func TestStoreServesWithinTTLOnly(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	f := &fakeStore{session: live()}
	s := Store(f, 5*time.Second, func() time.Time { return now })

	for range 3 {
		if _, err := s.DeploymentByHost(ctx, "a.test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, 1, 7); err != nil {
			t.Fatal(err)
		}
	}
	if f.deployments != 1 || f.sessions != 1 {
		t.Fatalf("within the TTL: %d deployment and %d session reads, want 1 each", f.deployments, f.sessions)
	}

	// Revoked in the database: still served until the TTL ends, never after.
	f.session.SignIn.SignedOut = true
	now = now.Add(5 * time.Second)
	ss, _ := s.Session(ctx, 1, 7)
	if !ss.SignIn.SignedOut {
		t.Fatal("a cached session outlived the TTL")
	}
	// A dead session is not cached: every request asks again.
	s.Session(ctx, 1, 7)
	if f.sessions != 3 {
		t.Fatalf("dead session read %d times, want every time", f.sessions)
	}
}

func TestStoreNeverCachesMisses(t *testing.T) {
	ctx := context.Background()
	f := &fakeStore{}
	s := Store(f, time.Minute, nil)
	for range 2 {
		if _, err := s.DeploymentByHost(ctx, "unknown.test"); err == nil {
			t.Fatal("unknown host found")
		}
	}
	if f.deployments != 2 {
		t.Fatalf("unknown host read %d times, want 2", f.deployments)
	}
}

func TestStoreRefreshForgetsSession(t *testing.T) {
	ctx := context.Background()
	f := &fakeStore{session: live()}
	s := Store(f, time.Hour, nil)
	s.Session(ctx, 1, 7)
	s.Refresh(ctx, domain.RefreshRequest{DeploymentID: 1, SessionID: 7})
	if ss, _ := s.Session(ctx, 1, 7); !ss.Deleted {
		t.Fatal("session served from the cache after this instance revoked it")
	}
}

func TestStoreZeroTTLIsNoCache(t *testing.T) {
	f := &fakeStore{}
	if Store(f, 0, nil) != domain.Store(f) {
		t.Fatal("a zero TTL wrapped the store")
	}
}

// blockingStore answers Session with the state it had when the read began,
// after the test lets it go: a read in flight while the session is revoked.
type blockingStore struct {
	fakeStore
	started, release chan struct{}
}

func (b *blockingStore) Session(ctx context.Context, d, s int64) (domain.SessionState, error) {
	ss, err := b.fakeStore.Session(ctx, d, s)
	b.started <- struct{}{}
	<-b.release
	return ss, err
}

// A read that began before a revocation must not put the revoked session
// back into the cache once it returns.
func TestStoreReadInFlightDoesNotUndoRevocation(t *testing.T) {
	ctx := context.Background()
	b := &blockingStore{fakeStore: fakeStore{session: live()}, started: make(chan struct{}), release: make(chan struct{})}
	s := Store(b, time.Hour, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Session(ctx, 1, 7) // reads the live state, then waits
	}()
	<-b.started
	s.Refresh(ctx, domain.RefreshRequest{DeploymentID: 1, SessionID: 7}) // reuse revokes it
	close(b.release)
	<-done
	go func() { <-b.started }() // the next read may go to the store
	if ss, _ := s.Session(ctx, 1, 7); !ss.Deleted {
		t.Fatal("a read that began before the revocation put the live session back")
	}
}

func TestStoreTokenSeenForgetsSession(t *testing.T) {
	ctx := context.Background()
	f := &fakeStore{session: live()}
	s := Store(f, time.Hour, nil)
	s.Session(ctx, 1, 7)
	f.session.PendingTokenID = 0
	s.TokenSeen(ctx, 1, 7, 9)
	s.Session(ctx, 1, 7)
	if f.sessions != 2 {
		t.Fatalf("session read %d times, want 2: TokenSeen must forget it", f.sessions)
	}
}

func (f *fakeStore) TokenSeen(context.Context, int64, int64, int64) error { return nil }
