package load

import (
	"bytes"
	"testing"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
)

// The walker itself runs in every store's conformance suite (storetest);
// this checks the key generation Parse leaves to the store.
func TestWithKeys(t *testing.T) {
	given := []byte("given")
	ds := &domain.Dataset{Deployments: []domain.DeploymentRecord{
		{Path: "deployments[0]"},
		{Path: "deployments[1]", PrivateKeyPEM: given, PublicKeyPEM: given},
	}}
	out, err := WithKeys(ds)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Deployments[0].PrivateKeyPEM != nil {
		t.Error("WithKeys changed its argument")
	}
	d := out.Deployments[0]
	priv, err := auth.ParsePrivateKey(d.PrivateKeyPEM)
	if err != nil {
		t.Fatalf("generated private key: %v", err)
	}
	pub, err := auth.ParsePublicKey(d.PublicKeyPEM)
	if err != nil || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("generated public key %v does not match the private key", err)
	}
	if !bytes.Equal(out.Deployments[1].PrivateKeyPEM, given) {
		t.Error("WithKeys replaced a given key")
	}
}
