package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/seed"
	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
)

// BenchmarkMemberships is the memberships query of a user with 10 and 1,000
// memberships, in a deployment of 200 organizations × 10 workspaces, as the
// SQLite store's benchmark; one caller, so ns/op is the round trip, the
// database's work included.
func BenchmarkMemberships(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
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
		b.Run(fmt.Sprintf("memberships=%d", m), func(b *testing.B) {
			for b.Loop() {
				ms, err := s.Memberships(ctx, domain.MembershipQuery{DeploymentID: d.ID, UserID: u.ID})
				if err != nil || len(ms) != m {
					b.Fatal(len(ms), err)
				}
			}
		})
	}
}
