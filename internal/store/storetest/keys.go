package storetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
)

// testRewriteSigningKeys: every key passes through the rewrite, changed ones
// are stored, and a failing rewrite changes nothing.
func testRewriteSigningKeys(t *testing.T, s domain.Store) {
	ctx := t.Context()
	if err := s.Load(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	before1, _ := s.SigningKey(ctx, deployment1)
	before2, _ := s.SigningKey(ctx, deployment2)

	boom := errors.New("boom")
	n, err := s.RewriteSigningKeys(ctx, func(id int64, pem []byte) ([]byte, error) {
		if id == deployment2 {
			return nil, boom
		}
		return append([]byte("x"), pem...), nil
	})
	if !errors.Is(err, boom) || n != 0 {
		t.Fatalf("failing rewrite: %d, %v", n, err)
	}
	if k, _ := s.SigningKey(ctx, deployment1); !bytes.Equal(k, before1) {
		t.Fatal("a failed rewrite changed a key")
	}

	n, err = s.RewriteSigningKeys(ctx, func(id int64, pem []byte) ([]byte, error) {
		if id == deployment1 {
			return append([]byte("sealed:"), pem...), nil
		}
		return pem, nil
	})
	if err != nil || n != 1 {
		t.Fatalf("rewrite: %d, %v; want 1 changed", n, err)
	}
	if k, _ := s.SigningKey(ctx, deployment1); !bytes.Equal(k, append([]byte("sealed:"), before1...)) {
		t.Errorf("deployment 1 key: %q", k)
	}
	if k, _ := s.SigningKey(ctx, deployment2); !bytes.Equal(k, before2) {
		t.Errorf("deployment 2 key changed")
	}
}
