package keyring

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	kek := make([]byte, 32)
	rand.Read(kek)
	r, err := New(kek)
	if err != nil {
		t.Fatal(err)
	}
	pem := []byte("-----BEGIN PRIVATE KEY-----\nMIG...\n-----END PRIVATE KEY-----\n")
	sealed, err := r.Seal(pem, 7)
	if err != nil || !Sealed(sealed) || bytes.Contains(sealed, []byte("PRIVATE KEY")) {
		t.Fatalf("sealed %q, %v", sealed, err)
	}
	if again, _ := r.Seal(sealed, 7); !bytes.Equal(again, sealed) {
		t.Error("sealing twice")
	}
	if got, err := r.Open(sealed, 7); err != nil || !bytes.Equal(got, pem) {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := r.Open(sealed, 8); err == nil {
		t.Error("a key sealed for deployment 7 opened for 8")
	}
	other := make([]byte, 32)
	rand.Read(other)
	o, _ := New(other)
	if _, err := o.Open(sealed, 7); err == nil {
		t.Error("opened with the wrong key-encryption key")
	}
	var none *Ring
	if _, err := none.Open(sealed, 7); err == nil || !strings.Contains(err.Error(), "MEMBERSHIPS_KEY_ENCRYPTION_KEY") {
		t.Errorf("no ring: %v", err)
	}
	if got, err := none.Open(pem, 7); err != nil || !bytes.Equal(got, pem) {
		t.Error("plain keys pass through")
	}
	if _, err := ParseKey("c2hvcnQ="); err == nil {
		t.Error("short key accepted")
	}
}
