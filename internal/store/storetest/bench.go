package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/seed"
)

// Named is a store a benchmark runs through, its name a suffix of the
// benchmark's.
type Named struct {
	Suffix string
	domain.Store
}

// BenchmarkMemberships is the memberships query of a user with 10 and 1,000
// memberships, in a deployment of 200 organizations × 10 workspaces, run
// through each of stores (one database: the first loads the data). One
// caller, so ns/op is a whole round trip, the database's work included.
func BenchmarkMemberships(b *testing.B, stores ...Named) {
	ctx := context.Background()
	s := stores[0]
	for _, m := range []int{10, 1000} {
		c := seed.Default()
		c.Host, c.Organizations, c.WorkspacesPerOrganization = fmt.Sprintf("m%d.test", m), 200, 10
		c.Users, c.MembershipsPerUser, c.RolesPerMembership, c.Segments = 50, m, 2, 20
		if err := seed.Generate(ctx, c, func(ds *domain.Dataset, _ int) error { return s.Load(ctx, ds) }); err != nil {
			b.Fatal(err)
		}
		d, err := s.DeploymentByHost(ctx, c.Host)
		if err != nil {
			b.Fatal(err)
		}
		u, err := s.FindUser(ctx, d.ID, seed.Email(c, 0))
		if err != nil {
			b.Fatal(err)
		}
		for _, st := range stores {
			b.Run(fmt.Sprintf("memberships=%d%s", m, st.Suffix), func(b *testing.B) {
				for b.Loop() {
					ms, err := st.Memberships(ctx, domain.MembershipQuery{DeploymentID: d.ID, UserID: u.ID})
					if err != nil || len(ms) != m {
						b.Fatal(len(ms), err)
					}
				}
			})
		}
	}
}
