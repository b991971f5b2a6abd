package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wachtbench/memberships/internal/cache"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/ids"
)

// ErrInactiveSession: the token is genuine but its session no longer
// authenticates anybody (unknown, deleted or revoked session, no active
// sign-in, sign-in expired or signed out).
var ErrInactiveSession = errors.New("session is not active")

// RefreshGrace is how long a rotated token may still be presented and join
// its successor: tabs of one browser refreshing at the same moment. After it,
// presenting the token again is reuse and revokes the session — once the
// successor has been presented: until then the client may never have
// received it, and the old token joins it instead (docs/security.md).
const RefreshGrace = 10 * time.Second

// RefreshPendingWindow bounds that joining: a successor never presented
// still takes the old token for 2 minutes (four polls of a browser whose
// answer was lost), not for the rest of the session, so an old token
// replayed later — by a thief, after the victim closed the tab — is reuse.
const RefreshPendingWindow = 2 * time.Minute

// SessionStore is the part of the store authentication reads and, to refresh
// expired tokens, writes.
type SessionStore interface {
	Session(ctx context.Context, deploymentID, sessionID int64) (domain.SessionState, error)
	Refresh(ctx context.Context, r domain.RefreshRequest) (domain.RefreshResult, error)
	TokenSeen(ctx context.Context, deploymentID, sessionID, tokenID int64) error
	SigningKey(ctx context.Context, deploymentID int64) ([]byte, error)
	ids.Leaser
}

// Authenticator resolves session tokens to callers.
type Authenticator struct {
	store       SessionStore
	now         func() time.Time
	publicKeys  sync.Map // deployment id → *cachedKey[*ecdsa.PublicKey]
	privateKeys sync.Map // deployment id → *cachedKey[*ecdsa.PrivateKey]
	verified    *cache.TTL[[sha256.Size]byte, verifiedToken]
	ids         *ids.Source
}

// maxVerified bounds the verified-token cache: one entry (~100 bytes) per
// token polled within its lifetime on this instance.
const maxVerified = 100_000

// verifiedToken is a token that passed Verify, remembered until it expires so
// that a polling client pays for one ECDSA verification per token, not per
// request. The key and issuer it was verified with are part of the entry: a
// rotated key or another deployment's host verifies afresh.
type verifiedToken struct {
	key    *ecdsa.PublicKey
	issuer string
	claims TokenClaims
}

type cachedKey[K any] struct {
	pem string
	key K
}

// NewAuthenticator reads sessions from store; now is the clock (time.Now when nil).
func NewAuthenticator(store SessionStore, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{store: store, now: now, verified: cache.NewTTL[[sha256.Size]byte, verifiedToken](maxVerified),
		ids: ids.NewSource(store, now)}
}

// Result is an authenticated request's caller. When Expired, the token had
// expired and the request may go on only through Refresh.
type Result struct {
	Caller  domain.Caller
	Expired bool
	claims  TokenClaims
	now     time.Time
	key     *ecdsa.PublicKey // the key the token verified with
}

// Token is a refreshed session token and the time until which it can keep
// the session going (refreshed again as it expires), also as a duration
// from the refresh.
type Token struct {
	Value      string
	ValidUntil time.Time
	ValidFor   time.Duration
}

// Authenticate verifies token for deployment d and returns its caller, or
// ErrInvalidToken, ErrExpiredToken, ErrNotYetValid, ErrInactiveSession, or a
// store error. An expired token of a live session gives a Result with
// Expired set and changes nothing: the caller decides when to Refresh.
func (a *Authenticator) Authenticate(ctx context.Context, d domain.Deployment, token string) (Result, error) {
	if d.Host == "" {
		return Result{}, errors.New("deployment has no primary host to check the issuer against")
	}
	key, err := cached(&a.publicKeys, d.ID, d.PublicKeyPEM, ParsePublicKey)
	if err != nil {
		return Result{}, err
	}
	now := a.now()
	claims, err := a.verify(key, Issuer(d.Host), token, now)
	expired := errors.Is(err, ErrExpiredToken)
	if err != nil && !expired {
		return Result{}, err
	}
	s, err := a.store.Session(ctx, d.ID, claims.SessionID)
	if errors.Is(err, domain.ErrNotFound) {
		return Result{}, ErrInactiveSession
	}
	if err != nil {
		return Result{}, err
	}
	in := s.SignIn
	if s.Deleted || in == nil || in.SessionID != s.ID || in.SignedOut || in.UserDeleted || !now.Before(in.ExpiresAt) {
		return Result{}, ErrInactiveSession
	}
	// The first request presenting the successor of a refresh proves the
	// client received it: from now on its predecessor counts as reuse.
	if !expired && s.PendingTokenID != 0 && s.PendingTokenID == claims.RotatingTokenID {
		if err := a.store.TokenSeen(ctx, d.ID, s.ID, claims.RotatingTokenID); err != nil {
			return Result{}, err
		}
	}
	return Result{Caller: domain.Caller{
		DeploymentID: d.ID,
		UserID:       in.UserID,
		HasMFA:       in.UserHasMFA,
		Session:      domain.SessionSummary{ID: s.ID, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt},
	}, Expired: expired, claims: claims, now: now, key: key}, nil
}

// Known reports whether token passed verification here for deployment d
// (its key and issuer) within its lifetime or shortly after (keptExpired):
// a hint, never an authentication (the request is still authenticated in
// full), for letting a genuine session through a budget its address spent.
// It costs a hash and a map lookup.
func (a *Authenticator) Known(d domain.Deployment, token string) bool {
	if token == "" || len(token) > MaxTokenSize {
		return false
	}
	key, err := cached(&a.publicKeys, d.ID, d.PublicKeyPEM, ParsePublicKey)
	if err != nil {
		return false
	}
	v, ok := a.verified.Get(sha256.Sum256([]byte(token)), a.now())
	return ok && v.key == key && v.issuer == Issuer(d.Host)
}

// Issued reports whether token's signature and claims verify with
// deployment d's key, expired or not: proof that d issued it, not that it
// was guessed. It costs an ECDSA verification unless the token is Known;
// a token that passes is remembered, so authenticating it next is free.
func (a *Authenticator) Issued(d domain.Deployment, token string) bool {
	key, err := cached(&a.publicKeys, d.ID, d.PublicKeyPEM, ParsePublicKey)
	if err != nil {
		return false
	}
	_, err = a.verify(key, Issuer(d.Host), token, a.now())
	return err == nil || errors.Is(err, ErrExpiredToken)
}

// keptExpired is how long a verified token stays remembered past its
// expiry: a poller presents it once more to refresh it, within its next
// poll or two, and a spent failure budget still recognises it.
const keptExpired = 2 * time.Minute

// verify is Verify, remembering tokens that pass (or pass but for expiry)
// until keptExpired after they expire. Only the signature and claims are
// remembered: the session is checked on every request.
func (a *Authenticator) verify(key *ecdsa.PublicKey, issuer, token string, now time.Time) (TokenClaims, error) {
	if len(token) > MaxTokenSize {
		return TokenClaims{}, ErrInvalidToken
	}
	h := sha256.Sum256([]byte(token))
	if v, ok := a.verified.Get(h, now); ok && v.key == key && v.issuer == issuer {
		if !now.Before(v.claims.ExpiresAt.Add(Leeway)) { // as Verify decides
			return v.claims, ErrExpiredToken
		}
		return v.claims, nil
	}
	claims, err := Verify(key, issuer, token, now)
	if until := claims.ExpiresAt.Add(Leeway + keptExpired); (err == nil || errors.Is(err, ErrExpiredToken)) && until.After(now) {
		a.verified.Put(h, verifiedToken{key: key, issuer: issuer, claims: claims}, until, now)
	}
	return claims, err
}

// Refresh rotates the expired token of res (from Authenticate on d) and
// signs a token for the successor, updating res's session. Everything that
// can fail — reading and unsealing the signing key, minting the successor's
// id — happens before the rotation commits: once it has, only signing is
// left, which does not fail with a good key, so a committed rotation always
// yields the token the caller must deliver.
func (a *Authenticator) Refresh(ctx context.Context, d domain.Deployment, res *Result) (Token, error) {
	pem, err := a.store.SigningKey(ctx, d.ID)
	if err != nil {
		return Token{}, err
	}
	key, err := cached(&a.privateKeys, d.ID, pem, ParsePrivateKey)
	if err != nil {
		return Token{}, fmt.Errorf("deployment %d signing key: %w", d.ID, err)
	}
	// Sign only with the key whose public half verified the token. Another
	// means the key was rotated since d was read (a cached deployment): the
	// token's signature is not the deployment's any more, as an instance
	// reading the new key says, and a successor would not verify here.
	if res.key == nil || !key.PublicKey.Equal(res.key) {
		return Token{}, ErrInvalidToken
	}
	successor, err := a.ids.New(ctx)
	if err != nil {
		return Token{}, err
	}
	c := res.claims
	r, err := a.store.Refresh(ctx, domain.RefreshRequest{
		DeploymentID: d.ID, SessionID: c.SessionID, TokenID: c.RotatingTokenID,
		SuccessorID: successor, Now: res.now, Grace: RefreshGrace, PendingWindow: RefreshPendingWindow, Skew: Leeway,
	})
	if err != nil {
		return Token{}, err
	}
	switch r.Outcome {
	case domain.RefreshRotated, domain.RefreshJoined:
	case domain.RefreshReused:
		return Token{}, ErrInactiveSession
	default:
		return Token{}, ErrExpiredToken
	}
	tok, err := Sign(key, Issuer(d.Host), c.SessionID, r.SuccessorID, res.now, TokenLifetime)
	if err != nil {
		return Token{}, err
	}
	res.Caller.Session.UpdatedAt = res.now
	return Token{Value: tok, ValidUntil: r.ValidUntil, ValidFor: r.ValidUntil.Sub(res.now)}, nil
}

// cached parses a deployment's key once and keeps it while its PEM is unchanged.
func cached[K any](m *sync.Map, id int64, pem []byte, parse func([]byte) (K, error)) (K, error) {
	if v, ok := m.Load(id); ok && v.(*cachedKey[K]).pem == string(pem) {
		return v.(*cachedKey[K]).key, nil
	}
	key, err := parse(pem)
	if err != nil {
		return key, err
	}
	m.Store(id, &cachedKey[K]{pem: string(pem), key: key})
	return key, nil
}
