// Command membench is the load benchmark (`make bench`; `make bench-smoke` is
// its seconds-long version for CI). See BENCHMARKS.md for a recorded run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/wachtbench/memberships/internal/bench"
)

func main() {
	c := bench.Default()
	fs := flag.NewFlagSet("membench", flag.ExitOnError)
	fs.IntVar(&c.Users, "users", c.Users, "users of the main deployment")
	fs.IntVar(&c.Organizations, "organizations", c.Organizations, "organizations")
	fs.IntVar(&c.WorkspacesPerOrganization, "workspaces", c.WorkspacesPerOrganization, "workspaces per organization")
	fs.IntVar(&c.MembershipsPerUser, "memberships", c.MembershipsPerUser, "workspace memberships per user")
	fs.IntVar(&c.RolesPerWorkspace, "roles", c.RolesPerWorkspace, "roles per workspace")
	fs.IntVar(&c.RolesPerMembership, "roles-per-membership", c.RolesPerMembership, "roles per workspace membership")
	fs.IntVar(&c.Segments, "segments", c.Segments, "segments of the deployment")
	fs.IntVar(&c.Tokens, "tokens", c.Tokens, "users whose sessions the load picks from")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "closed-loop workers")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured time per scenario")
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "rounds the scenarios take turns in")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "unmeasured load per scenario first")
	sweep := fs.String("sweep", "1,10,100,1000", "memberships per user of the sweep (empty: no sweep)")
	fs.IntVar(&c.SweepUsers, "sweep-users", c.SweepUsers, "users per sweep point")
	fs.IntVar(&c.SweepConcurrency, "sweep-concurrency", c.SweepConcurrency, "workers of the sweep")
	fs.DurationVar(&c.SweepDuration, "sweep-duration", c.SweepDuration, "measured time per sweep point")
	fs.DurationVar(&c.CacheTTL, "cache-ttl", c.CacheTTL, "server cache TTL (serve --cache-ttl); 0: no cache")
	fs.BoolVar(&c.SkipSQLite, "skip-sqlite", false, "benchmark only PostgreSQL (MEMBERSHIPS_TEST_POSTGRES)")
	fs.StringVar(&c.Dir, "dir", "", "directory of the SQLite database (default: a temporary one)")
	fs.DurationVar(&c.Soak, "soak", 0, "after the scenarios, drive the full server this long, checking memory stays flat (0: no soak)")
	fs.DurationVar(&c.SoakSample, "soak-sample", c.SoakSample, "how often the soak samples the server")
	fs.StringVar(&c.Postgres, "postgres", os.Getenv(bench.PostgresEnv),
		"PostgreSQL server to benchmark too, in a fresh schema (env "+bench.PostgresEnv+", as scripts/with-postgres.sh sets it; empty: SQLite only)")
	fs.BoolVar(&c.Markdown, "markdown", false, "print the result tables as Markdown, to paste into BENCHMARKS.md")
	profile := fs.String("cpuprofile", "", "write the server process's CPU profile (all its scenarios) to this file; each store and sweep point has a process of its own, and the last one's profile is kept")
	fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if db := os.Getenv(bench.ChildEnv); db != "" {
		if err := bench.RunChild(ctx, db, c.CacheTTL); err != nil {
			fmt.Fprintln(os.Stderr, "membench server:", err)
			os.Exit(1)
		}
		return
	}
	if *profile != "" {
		os.Setenv(bench.ProfileEnv, *profile) // the server processes inherit it
	}
	c.Sweep = nil
	for _, f := range strings.Split(*sweep, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "membench: -sweep: %q is not a positive number\n", f)
			os.Exit(2)
		}
		c.Sweep = append(c.Sweep, n)
	}
	if err := bench.Run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "membench:", err)
		os.Exit(1)
	}
}
