package store

import (
	"context"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// WithQueryTimeout bounds each request-path call to s by d, so a database
// that hangs turns into a prompt error instead of a pile of stuck requests.
// Bulk work (Load, Migrate) is not bounded.
func WithQueryTimeout(s domain.Store, d time.Duration) domain.Store {
	if d <= 0 {
		return s
	}
	return timeoutStore{Store: s, d: d}
}

type timeoutStore struct {
	domain.Store
	d time.Duration
}

func (t timeoutStore) DeploymentByHost(ctx context.Context, host string) (domain.Deployment, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.Store.DeploymentByHost(ctx, host)
}

func (t timeoutStore) Session(ctx context.Context, deploymentID, sessionID int64) (domain.SessionState, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.Store.Session(ctx, deploymentID, sessionID)
}

func (t timeoutStore) Memberships(ctx context.Context, q domain.MembershipQuery) ([]domain.Membership, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.Store.Memberships(ctx, q)
}

func (t timeoutStore) Changes(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.Store.Changes(ctx, since, limit)
}

func (t timeoutStore) Refresh(ctx context.Context, r domain.RefreshRequest) (domain.RefreshResult, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.Store.Refresh(ctx, r)
}

func (t timeoutStore) SigningKey(ctx context.Context, deploymentID int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.Store.SigningKey(ctx, deploymentID)
}

func (t timeoutStore) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.Store.Ping(ctx)
}
