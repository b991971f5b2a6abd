package cache

import (
	"context"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// Bounds of the store caches: enough for the sessions active within one TTL
// on a busy instance, a few hundred bytes each.
const (
	maxDeployments = 1_000
	maxSessions    = 50_000
)

// Store remembers, for ttl, the deployment answering on a host and the state
// of sessions found active, so a polling client costs one statement (its
// memberships) instead of three. What is cached may be stale by up to ttl: a
// revoked session, a signed-out or deleted user, an MFA or deployment change
// (switches, allowed origins, a rotated key) counts on this instance at most
// ttl late. Refreshing a session through this instance forgets it at once.
// Misses (unknown hosts, dead sessions) are never cached, so nothing that
// starts to exist is hidden. ttl <= 0 returns s itself.
func Store(s domain.Store, ttl time.Duration, now func() time.Time) domain.Store {
	if ttl <= 0 {
		return s
	}
	if now == nil {
		now = time.Now
	}
	return &store{
		Store: s, ttl: ttl, now: now,
		deployments: NewTTL[string, domain.Deployment](maxDeployments),
		sessions:    NewTTL[sessionKey, domain.SessionState](maxSessions),
	}
}

type sessionKey struct{ deployment, session int64 }

type store struct {
	domain.Store
	ttl         time.Duration
	now         func() time.Time
	deployments *TTL[string, domain.Deployment]
	sessions    *TTL[sessionKey, domain.SessionState]
}

func (s *store) DeploymentByHost(ctx context.Context, host string) (domain.Deployment, error) {
	now := s.now()
	if d, ok := s.deployments.Get(host, now); ok {
		return d, nil
	}
	d, err := s.Store.DeploymentByHost(ctx, host)
	if err == nil {
		s.deployments.Put(host, d, now.Add(s.ttl), now)
	}
	return d, err
}

// CachedDeployment is the deployment answering on host if this instance
// holds it, without asking the database: for answers that must not cost a
// lookup (refusals under load or abuse).
func (s *store) CachedDeployment(host string) (domain.Deployment, bool) {
	return s.deployments.Get(host, s.now())
}

// Session caches only sessions that may authenticate; the authenticator still
// checks the sign-in's expiry against the clock on every request.
func (s *store) Session(ctx context.Context, deploymentID, sessionID int64) (domain.SessionState, error) {
	k, now := sessionKey{deploymentID, sessionID}, s.now()
	if ss, ok := s.sessions.Get(k, now); ok {
		return ss, nil
	}
	gen := s.sessions.Gen()
	ss, err := s.Store.Session(ctx, deploymentID, sessionID)
	if err == nil && !ss.Deleted && ss.SignIn != nil && !ss.SignIn.SignedOut && !ss.SignIn.UserDeleted {
		s.sessions.PutSince(gen, k, ss, now.Add(s.ttl), now)
	}
	return ss, err
}

// Refresh forgets the session whatever the outcome: a rotation changes its
// updated_at and pending token, and reuse revokes it. A read of the session
// that began before is not put back (TTL.PutSince).
func (s *store) Refresh(ctx context.Context, r domain.RefreshRequest) (domain.RefreshResult, error) {
	res, err := s.Store.Refresh(ctx, r)
	s.sessions.Delete(sessionKey{r.DeploymentID, r.SessionID})
	return res, err
}

// TokenSeen forgets the session: its pending token is gone.
func (s *store) TokenSeen(ctx context.Context, deploymentID, sessionID, tokenID int64) error {
	err := s.Store.TokenSeen(ctx, deploymentID, sessionID, tokenID)
	s.sessions.Delete(sessionKey{deploymentID, sessionID})
	return err
}
