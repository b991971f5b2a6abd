package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/ids"
)

// MintStore is the part of the store minting a session reads and writes.
type MintStore interface {
	DeploymentByHost(ctx context.Context, host string) (domain.Deployment, error)
	FindUser(ctx context.Context, deploymentID int64, idOrEmail string) (domain.User, error)
	SigningKey(ctx context.Context, deploymentID int64) ([]byte, error)
	CreateSession(ctx context.Context, s domain.NewSession) error
	ids.Leaser
}

// Mint signs a user (id or e-mail) of the deployment on host in: it creates
// a session, its sign-in and rotating token (living SignInLifetime, or the
// token's lifetime if longer) and returns a session JWT living lifetime.
func Mint(ctx context.Context, st MintStore, host, user string, lifetime time.Duration) (string, error) {
	d, err := st.DeploymentByHost(ctx, strings.ToLower(host))
	if err != nil {
		return "", fmt.Errorf("deployment %q: %w", host, err)
	}
	u, err := st.FindUser(ctx, d.ID, user)
	if err != nil {
		return "", fmt.Errorf("user %q in deployment %q: %w", user, host, err)
	}
	pemKey, err := st.SigningKey(ctx, d.ID)
	if err != nil {
		return "", err
	}
	key, err := ParsePrivateKey(pemKey)
	if err != nil {
		return "", fmt.Errorf("deployment %q signing key: %w", host, err)
	}
	now := time.Now()
	lives := max(lifetime, SignInLifetime)
	s := domain.NewSession{
		DeploymentID: d.ID, UserID: u.ID,
		CreatedAt: now, SignInExpiresAt: now.Add(lives), TokenValidUntil: now.Add(lives),
	}
	if err := SessionIDs(ctx, ids.NewSource(st, nil), &s); err != nil {
		return "", err
	}
	if err := st.CreateSession(ctx, s); err != nil {
		return "", err
	}
	return Sign(key, Issuer(d.Host), s.SessionID, s.RotatingTokenID, now, lifetime)
}

// SessionIDs gives a new session, its sign-in and its rotating token ids
// from src.
func SessionIDs(ctx context.Context, src *ids.Source, s *domain.NewSession) (err error) {
	for _, id := range []*int64{&s.SessionID, &s.SignInID, &s.RotatingTokenID} {
		if *id, err = src.New(ctx); err != nil {
			return err
		}
	}
	return nil
}
