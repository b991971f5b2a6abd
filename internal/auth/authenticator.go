package auth

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"sync"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// ErrInactiveSession: the token is genuine but its session no longer
// authenticates anybody (unknown or deleted session, no active sign-in, sign-in
// expired or signed out).
var ErrInactiveSession = errors.New("session is not active")

// SessionStore is the part of the store authentication reads.
type SessionStore interface {
	Session(ctx context.Context, deploymentID, sessionID int64) (domain.SessionState, error)
}

// Authenticator resolves session tokens to callers.
type Authenticator struct {
	store SessionStore
	now   func() time.Time
	keys  sync.Map // deployment id → *publicKey
}

type publicKey struct {
	pem string
	key *ecdsa.PublicKey
}

// NewAuthenticator reads sessions from store; now is the clock (time.Now when nil).
func NewAuthenticator(store SessionStore, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{store: store, now: now}
}

// Authenticate verifies token for deployment d and returns its caller, or
// ErrInvalidToken, ErrExpiredToken, ErrInactiveSession, or a store error.
func (a *Authenticator) Authenticate(ctx context.Context, d domain.Deployment, token string) (domain.Caller, error) {
	if d.Host == "" {
		return domain.Caller{}, errors.New("deployment has no primary host to check the issuer against")
	}
	key, err := a.publicKey(d)
	if err != nil {
		return domain.Caller{}, err
	}
	now := a.now()
	claims, err := Verify(key, Issuer(d.Host), token, now)
	if err != nil {
		return domain.Caller{}, err
	}
	s, err := a.store.Session(ctx, d.ID, claims.SessionID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Caller{}, ErrInactiveSession
	}
	if err != nil {
		return domain.Caller{}, err
	}
	in := s.SignIn
	if s.Deleted || in == nil || in.SessionID != s.ID || in.SignedOut || in.UserDeleted || !now.Before(in.ExpiresAt) {
		return domain.Caller{}, ErrInactiveSession
	}
	return domain.Caller{
		DeploymentID: d.ID,
		UserID:       in.UserID,
		HasMFA:       in.UserHasMFA,
		Session:      domain.SessionSummary{ID: s.ID, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt},
	}, nil
}

// publicKey parses a deployment's key once and keeps it while its PEM is unchanged.
func (a *Authenticator) publicKey(d domain.Deployment) (*ecdsa.PublicKey, error) {
	if v, ok := a.keys.Load(d.ID); ok && v.(*publicKey).pem == string(d.PublicKeyPEM) {
		return v.(*publicKey).key, nil
	}
	key, err := ParsePublicKey(d.PublicKeyPEM)
	if err != nil {
		return nil, err
	}
	a.keys.Store(d.ID, &publicKey{pem: string(d.PublicKeyPEM), key: key})
	return key, nil
}
