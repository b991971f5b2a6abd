package auth

import (
	"crypto/ecdsa"
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenLifetime is how long an issued session JWT lives.
const TokenLifetime = 6 * time.Hour

// SignInLifetime is how long a sign-in made by the token command lasts; the
// session outlives its short-lived tokens.
const SignInLifetime = 30 * 24 * time.Hour

// Leeway is the clock skew tolerated on exp and nbf.
const Leeway = 5 * time.Second

// MaxTokenSize bounds what is parsed at all; real tokens are ~400 bytes.
const MaxTokenSize = 4096

// Claims are a session token's claims.
type Claims struct {
	jwt.RegisteredClaims
	Session       string `json:"sess"`
	RotatingToken string `json:"rotating_token"`
}

// TokenClaims is what a verified token says, ids parsed.
type TokenClaims struct {
	SessionID       int64
	RotatingTokenID int64
	IssuedAt        time.Time
	ExpiresAt       time.Time
}

// Issuer is the iss claim of a deployment answering on host.
func Issuer(host string) string { return "https://" + host }

// Sign makes a session JWT for a session and rotating token.
func Sign(key *ecdsa.PrivateKey, issuer string, sessionID, rotatingTokenID int64, now time.Time, lifetime time.Duration) (string, error) {
	now = now.Truncate(time.Second)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(lifetime)),
		},
		Session:       strconv.FormatInt(sessionID, 10),
		RotatingToken: strconv.FormatInt(rotatingTokenID, 10),
	}
	return jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(key)
}

// Verification failures; each maps to one error code of the contract.
var (
	ErrInvalidToken = errors.New("session token is invalid")
	ErrExpiredToken = errors.New("session token has expired")
	ErrNotYetValid  = errors.New("session token is not valid yet")
)

// Verify checks a session JWT: ES256 only, signed by key (never a key the
// token names), the issuer, and every claim present and well formed; nbf and
// exp are checked with Leeway. The signature is checked before anything else,
// so an expired forgery is invalid, not expired. An expired but otherwise good
// token returns its claims with ErrExpiredToken: the caller may refresh it.
func Verify(key *ecdsa.PublicKey, issuer, token string, now time.Time) (TokenClaims, error) {
	if len(token) > MaxTokenSize {
		return TokenClaims{}, ErrInvalidToken
	}
	var c Claims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		return TokenClaims{}, ErrInvalidToken
	}
	sess, err1 := parseID(c.Session)
	rot, err2 := parseID(c.RotatingToken)
	if err1 != nil || err2 != nil || c.Issuer != issuer || c.IssuedAt == nil || c.NotBefore == nil || c.ExpiresAt == nil ||
		c.IssuedAt.After(now.Add(Leeway)) || c.ExpiresAt.Before(c.IssuedAt.Time) {
		return TokenClaims{}, ErrInvalidToken
	}
	claims := TokenClaims{SessionID: sess, RotatingTokenID: rot, IssuedAt: c.IssuedAt.Time, ExpiresAt: c.ExpiresAt.Time}
	switch {
	case now.Add(Leeway).Before(c.NotBefore.Time):
		return TokenClaims{}, ErrNotYetValid
	case !now.Before(c.ExpiresAt.Add(Leeway)):
		return claims, ErrExpiredToken
	}
	return claims, nil
}

// parseID accepts a positive decimal int64 written canonically.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s {
		return 0, ErrInvalidToken
	}
	return id, nil
}
