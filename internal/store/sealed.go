package store

import (
	"context"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/keyring"
	"github.com/wachtbench/memberships/internal/store/load"
)

// WithSealedKeys seals private keys as they are loaded and opens them as they
// are read, so the database never holds a usable signing key when a
// key-encryption key is configured (ring non-nil).
func WithSealedKeys(s domain.Store, ring *keyring.Ring) domain.Store {
	return sealedStore{Store: s, ring: ring}
}

type sealedStore struct {
	domain.Store
	ring *keyring.Ring
}

func (s sealedStore) Load(ctx context.Context, ds *domain.Dataset) error {
	if s.ring == nil {
		return s.Store.Load(ctx, ds)
	}
	// Keys missing from the data set are made before sealing, not by the
	// store beneath, which would store them unsealed.
	ds, err := load.WithKeys(ds)
	if err != nil {
		return err
	}
	sealed := *ds
	sealed.Deployments = make([]domain.DeploymentRecord, len(ds.Deployments))
	for i, d := range ds.Deployments {
		var err error
		if d.PrivateKeyPEM, err = s.ring.Seal(d.PrivateKeyPEM, d.ID); err != nil {
			return err
		}
		sealed.Deployments[i] = d
	}
	return s.Store.Load(ctx, &sealed)
}

func (s sealedStore) SigningKey(ctx context.Context, deploymentID int64) ([]byte, error) {
	stored, err := s.Store.SigningKey(ctx, deploymentID)
	if err != nil {
		return nil, err
	}
	return s.ring.Open(stored, deploymentID)
}

// SealStoredKeys seals, in place, the private keys stored before a
// key-encryption key was configured (already sealed ones are left alone), so
// setting the key protects an existing database on the next start. It
// returns how many keys it sealed.
func SealStoredKeys(ctx context.Context, s domain.Store, ring *keyring.Ring) (int, error) {
	if ring == nil {
		return 0, nil
	}
	return s.RewriteSigningKeys(ctx, func(deploymentID int64, stored []byte) ([]byte, error) {
		return ring.Seal(stored, deploymentID)
	})
}
