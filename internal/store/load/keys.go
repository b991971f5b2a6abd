package load

import (
	"fmt"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
)

// WithKeys returns ds with an ES256 key pair generated for each deployment
// that has none. Parsing a data file is pure; keys are made here, where the
// data is stored (Load, and the key-sealing store before it seals them).
// ds itself is left alone.
func WithKeys(ds *domain.Dataset) (*domain.Dataset, error) {
	out := *ds
	out.Deployments = nil
	for _, d := range ds.Deployments {
		if len(d.PrivateKeyPEM) == 0 {
			var err error
			if d.PrivateKeyPEM, d.PublicKeyPEM, err = auth.GenerateKey(); err != nil {
				return nil, fmt.Errorf("%s: generating a key: %w", d.Path, err)
			}
		}
		out.Deployments = append(out.Deployments, d)
	}
	return &out, nil
}
