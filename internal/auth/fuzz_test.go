package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"
)

// FuzzVerify: whatever the bytes, Verify does not panic, and the only claims
// it ever accepts are those of the genuine token (a mutation may survive
// only where it changes nothing signed, such as ECDSA's malleable s).
func FuzzVerify(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	good, err := Sign(key, Issuer("a.test"), 42, 43, now, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	want, err := Verify(&key.PublicKey, Issuer("a.test"), good, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		got, err := Verify(&key.PublicKey, Issuer("a.test"), token, now)
		if err == nil && got != want {
			t.Fatalf("accepted foreign claims %+v from %q", got, token)
		}
	})
}
