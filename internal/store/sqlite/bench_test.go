package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"

	"github.com/wachtbench/memberships/internal/store/storetest"
)

// BenchmarkMemberships (storetest) through the default memory map and
// (",mmap=0") without one (--db-mmap 0).
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
	storetest.BenchmarkMemberships(b, storetest.Named{Store: s}, storetest.Named{Suffix: ",mmap=0", Store: unmapped})
}

// BenchmarkMembershipsSeeded reads the memberships of a membench database's
// sweep users in turn, by one caller and by 32 (the sweep's concurrency):
// the store's part of a sweep point, in-process, over as many users' pages
// as the sweep touches (BenchmarkMemberships reads one user's, always
// cached), through the default memory map and (",mmap=0") without one.
// Set MEMBERSHIPS_BENCH_SQLITE to the bench.db that
// `membench -dir D` leaves in D; skipped without it.
func BenchmarkMembershipsSeeded(b *testing.B) {
	path := os.Getenv("MEMBERSHIPS_BENCH_SQLITE")
	if path == "" {
		b.Skip("MEMBERSHIPS_BENCH_SQLITE is not set")
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	unmapped, err := OpenMapped(ctx, path, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unmapped.Close()
	type point struct {
		host       string
		deployment int64
		users      []int64
	}
	var points []point
	rows, err := s.db.QueryContext(ctx, `SELECT host, deployment_id FROM deployment_hosts WHERE host LIKE 'sweep%' ORDER BY host`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var p point
		if err := rows.Scan(&p.host, &p.deployment); err != nil {
			b.Fatal(err)
		}
		points = append(points, p)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	rows.Close()
	for _, p := range points {
		users, err := s.db.QueryContext(ctx, `SELECT id FROM users WHERE deployment_id = ? ORDER BY id LIMIT 1000`, p.deployment)
		if err != nil {
			b.Fatal(err)
		}
		for users.Next() {
			var u int64
			if err := users.Scan(&u); err != nil {
				b.Fatal(err)
			}
			p.users = append(p.users, u)
		}
		users.Close()
		for _, st := range []storetest.Named{{Store: s}, {Suffix: ",mmap=0", Store: unmapped}} {
			read := func(i int) error {
				_, err := st.Memberships(ctx, domain.MembershipQuery{DeploymentID: p.deployment, UserID: p.users[i%len(p.users)]})
				return err
			}
			for i := range min(len(p.users), 50) { // the fragment cache warm, as a running server's is
				if err := read(i); err != nil {
					b.Fatal(err)
				}
			}
			b.Run(p.host+"/callers=1"+st.Suffix, func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if err := read(i); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(p.host+"/callers=32"+st.Suffix, func(b *testing.B) {
				var next atomic.Int64
				b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0))) // as the sweep's concurrency
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := read(int(next.Add(1))); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
