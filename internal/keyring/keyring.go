// Package keyring protects deployments' private signing keys at rest: they are
// sealed with AES-256-GCM under a key-encryption key that lives outside the
// database (MEMBERSHIPS_KEY_ENCRYPTION_KEY), bound to their deployment's id so
// a sealed key cannot be moved to another deployment's row.
//
// It imports no other package of the module.
package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// prefix marks a sealed key; anything else is a plain PEM.
const prefix = "sealed:v1:"

// Ring seals and opens keys; a nil *Ring seals nothing and opens only plain keys.
type Ring struct{ aead cipher.AEAD }

// ParseKey reads a key-encryption key: 32 bytes, standard base64 (as
// `openssl rand -base64 32` prints).
func ParseKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != 32 {
		return nil, errors.New("a key-encryption key is 32 random bytes in base64 (openssl rand -base64 32)")
	}
	return k, nil
}

// New returns a ring for a 32-byte key-encryption key.
func New(kek []byte) (*Ring, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Ring{aead: aead}, nil
}

// Sealed reports whether a stored key is sealed.
func Sealed(stored []byte) bool { return bytes.HasPrefix(stored, []byte(prefix)) }

// Seal encrypts a private key PEM for a deployment; a nil ring returns it as is.
func (r *Ring) Seal(pem []byte, deploymentID int64) ([]byte, error) {
	if r == nil || Sealed(pem) {
		return pem, nil
	}
	nonce := make([]byte, r.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := r.aead.Seal(nonce, nonce, pem, ad(deploymentID))
	return []byte(prefix + base64.StdEncoding.EncodeToString(sealed)), nil
}

// Open returns the PEM of a stored key: sealed ones are decrypted, plain ones
// (written before a key-encryption key was configured) pass through.
func (r *Ring) Open(stored []byte, deploymentID int64) ([]byte, error) {
	if !Sealed(stored) {
		return stored, nil
	}
	if r == nil {
		return nil, fmt.Errorf("deployment %d's signing key is sealed: set MEMBERSHIPS_KEY_ENCRYPTION_KEY", deploymentID)
	}
	raw, err := base64.StdEncoding.DecodeString(string(stored[len(prefix):]))
	if err != nil || len(raw) < r.aead.NonceSize() {
		return nil, fmt.Errorf("deployment %d's sealed signing key is damaged", deploymentID)
	}
	n := r.aead.NonceSize()
	pem, err := r.aead.Open(nil, raw[:n], raw[n:], ad(deploymentID))
	if err != nil {
		return nil, fmt.Errorf("deployment %d's signing key does not open with this key-encryption key", deploymentID)
	}
	return pem, nil
}

func ad(deploymentID int64) []byte {
	return binary.BigEndian.AppendUint64([]byte("memberships deployment key "), uint64(deploymentID))
}
