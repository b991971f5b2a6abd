package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

func TestVerifiedTokensAreRememberedOnlyForTheirKeyIssuerAndLifetime(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	a := NewAuthenticator(nil, nil)
	tok, err := Sign(key, Issuer("a.test"), 42, 43, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.verify(&key.PublicKey, Issuer("a.test"), tok, now); err != nil {
		t.Fatal(err)
	}
	if a.verified.Len() != 1 {
		t.Fatalf("%d verified tokens cached, want 1", a.verified.Len())
	}
	if c, err := a.verify(&key.PublicKey, Issuer("a.test"), tok, now.Add(time.Minute)); err != nil || c.SessionID != 42 {
		t.Fatalf("cached token: %+v %v", c, err)
	}
	// Another key (rotated, or another deployment's) or issuer verifies afresh and fails.
	if _, err := a.verify(&other.PublicKey, Issuer("a.test"), tok, now); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("other key: %v", err)
	}
	if _, err := a.verify(&key.PublicKey, Issuer("b.test"), tok, now); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("other issuer: %v", err)
	}
	// Past exp + leeway the cache no longer answers: the token is expired.
	if _, err := a.verify(&key.PublicKey, Issuer("a.test"), tok, now.Add(time.Hour+Leeway)); !errors.Is(err, ErrExpiredToken) {
		t.Fatalf("after exp: %v", err)
	}
	// Failures are not remembered.
	a.verify(&key.PublicKey, Issuer("a.test"), tok[:len(tok)-2], now)
	if a.verified.Len() != 1 {
		t.Fatalf("%d entries: a failure was cached", a.verified.Len())
	}
}

func BenchmarkVerify(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	tok, _ := Sign(key, Issuer("a.test"), 42, 43, now, time.Hour)
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			if _, err := Verify(&key.PublicKey, Issuer("a.test"), tok, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		a := NewAuthenticator(nil, nil)
		for b.Loop() {
			if _, err := a.verify(&key.PublicKey, Issuer("a.test"), tok, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
