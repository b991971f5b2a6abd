package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/seed"
)

// BenchmarkMemberships is the memberships query of a user with 10 and 1,000
// memberships, in a deployment of 200 organizations × 10 workspaces, through
// the default memory map and (",mmap=0") without one (--db-mmap 0).
func BenchmarkMemberships(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	unmapped, err := OpenMapped(ctx, path, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unmapped.Close()
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
		for _, st := range []struct {
			name string
			*Store
		}{{"", s}, {",mmap=0", unmapped}} {
			b.Run(fmt.Sprintf("memberships=%d%s", m, st.name), func(b *testing.B) {
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
