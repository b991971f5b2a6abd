// Package bench is the load benchmark behind `make bench` (cmd/membench): it
// seeds a fresh database with internal/seed, mints tokens, starts the servers
// in a child process and drives closed-loop load at them over loopback,
// printing throughput, latency, allocations, peak RSS and statements per
// request for each scenario, then a sweep over memberships per user.
//
// It imports the server, store, seed, auth, ids, domain and progress: it
// assembles what cmd/membench runs, so nothing imports it but cmd.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/schollz/progressbar/v3"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/ids"
	"github.com/wachtbench/memberships/internal/progress"
	"github.com/wachtbench/memberships/internal/seed"
	"github.com/wachtbench/memberships/internal/store"
)

// Config is the shape of a run.
type Config struct {
	// The data set (internal/seed): one deployment of Users users.
	Users, Organizations, WorkspacesPerOrganization, MembershipsPerUser int
	RolesPerWorkspace, RolesPerMembership, Segments                     int
	// Tokens is how many users' sessions the load picks from.
	Tokens int
	// Concurrency workers, each scenario for Duration split in Rounds taken
	// in turn (full, no-validator, floor, full, …) so a noisy neighbour hits
	// all of them alike; after Warmup each.
	Concurrency int
	Duration    time.Duration
	Rounds      int
	Warmup      time.Duration
	// Sweep: one deployment of SweepUsers users per entry, with that many
	// memberships each, all their tokens in turn; the full server and a floor
	// serving that deployment's typical answer take turns in Rounds, each
	// for SweepDuration at SweepConcurrency.
	Sweep            []int
	SweepUsers       int
	SweepConcurrency int
	SweepDuration    time.Duration
	// CacheTTL is the servers' server.Config.CacheTTL.
	CacheTTL time.Duration
	// Soak, when positive, drives the full server that long after the rest,
	// at Concurrency, sampling memory every SoakSample.
	Soak, SoakSample time.Duration
	// Postgres, when set, is a server on which a fresh schema is also benchmarked.
	Postgres string
	// SkipSQLite benchmarks only PostgreSQL.
	SkipSQLite bool
	// Dir holds the SQLite database; a temporary directory when empty.
	Dir string
	// Progress receives progress bars (drawn on a terminal only); Out the
	// results, with Markdown tables when Markdown is set.
	Progress, Out io.Writer
	Markdown      bool
}

// Default is the data set and load.
func Default() Config {
	return Config{
		Users: 10_000, Organizations: 200, WorkspacesPerOrganization: 10, MembershipsPerUser: 10,
		RolesPerWorkspace: 3, RolesPerMembership: 2, Segments: 20,
		Tokens: 1_000, Concurrency: 32, Duration: 15 * time.Second, Rounds: 3, Warmup: 2 * time.Second,
		Sweep: []int{1, 10, 100, 1_000}, SweepUsers: 1_000, SweepConcurrency: 32, SweepDuration: 6 * time.Second,
		CacheTTL: 5 * time.Second, SoakSample: 15 * time.Second,
		Progress: os.Stderr, Out: os.Stdout,
	}
}

// PostgresEnv is the variable scripts/with-postgres.sh sets to its server's
// URL (pgtest.EnvVar, which cmd/ may not import): membench's -postgres
// default.
const PostgresEnv = "MEMBERSHIPS_TEST_POSTGRES"

const mainHost = "bench.test"

func sweepHost(m int) string { return fmt.Sprintf("sweep%d.test", m) }

// Run benchmarks SQLite, then PostgreSQL when configured.
func Run(ctx context.Context, c Config) error {
	dir := c.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "membench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	fmt.Fprintf(c.Out, "membench: %s %s/%s, GOMAXPROCS=%d, %d CPUs; cache TTL %s\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), c.CacheTTL)
	if !c.SkipSQLite {
		if err := runStore(ctx, c, "sqlite", filepath.Join(dir, "bench.db")); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	if c.Postgres == "" {
		fmt.Fprintln(c.Out, "\npostgres: skipped (no -postgres, "+PostgresEnv+" is not set)")
		return nil
	}
	u, drop, err := freshSchema(ctx, c.Postgres)
	if err != nil {
		return err
	}
	defer drop()
	if err := runStore(ctx, c, "postgres", u); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func runStore(ctx context.Context, c Config, name, dbURL string) (err error) {
	heading := "=="
	if c.Markdown {
		heading = "###"
	}
	fmt.Fprintf(c.Out, "\n%s %s: %d users × %d workspace memberships, %d organizations × %d workspaces\n",
		heading, name, c.Users, c.MembershipsPerUser, c.Organizations, c.WorkspacesPerOrganization)
	tokens, sweepTokens, err := prepare(ctx, c, dbURL)
	if err != nil {
		return err
	}
	ch, err := startChild(ctx, dbURL, c.CacheTTL)
	if err != nil {
		return err
	}
	defer ch.stop()
	client := newClient(max(c.Concurrency, c.SweepConcurrency))

	// The floor serves the bytes of a typical answer: the first user's.
	typical, err := fetch(ctx, client, target{url: ch.addrs.Full + apiPath, host: mainHost, tokens: tokens[:1]})
	if err != nil {
		return err
	}
	if err := ch.post("/floor", typical); err != nil {
		return err
	}

	fullT := target{url: ch.addrs.Full + apiPath, host: mainHost, tokens: tokens}
	etags, err := etagsOf(ctx, client, fullT)
	if err != nil {
		return err
	}
	readT, noValT, floorT := fullT, fullT, fullT
	readT.url, noValT.url, floorT.url = ch.addrs.Read+apiPath, ch.addrs.NoValidator+apiPath, ch.addrs.Floor+apiPath
	scenarios := []struct {
		name string
		t    target
	}{{"full", fullT}, {"full read", readT}, {"no-validator", noValT}, {"floor", floorT},
		{"full 304", fullT.revalidating(etags)}, {"floor 304", floorT.revalidating(etags)}}
	ms := make([]measured, len(scenarios))
	for _, s := range scenarios {
		drive(ctx, client, s.t, c.Concurrency, c.Warmup)
	}
	rounds := max(c.Rounds, 1)
	for r := range rounds {
		for i, s := range scenarios {
			fmt.Fprintf(progress.Writer(c.Progress), "\r%s: round %d/%d, %-12s", name, r+1, rounds, s.name)
			_ = ch.post("/reset-peak", nil)
			if err := ms[i].run(ctx, ch, client, s.t, c.Concurrency, c.Duration/time.Duration(rounds)); err != nil {
				return err
			}
		}
	}
	fmt.Fprint(progress.Writer(c.Progress), "\r\033[K")

	fmt.Fprintf(c.Out, "closed loop: concurrency %d, %s per scenario (%d rounds), %d users' tokens, answer %d bytes; a 304 scenario revalidates each token's ETag\n",
		c.Concurrency, c.Duration, rounds, len(tokens), len(typical))
	tw := c.table()
	fmt.Fprintln(tw, "scenario\treq/s\tCPU/req\tp50\tp90\tp99\terrors\tallocs/req\tbytes/req\tstmts/req\tpeak RSS\t")
	for i, s := range scenarios {
		m := &ms[i]
		n := float64(max(m.res.requests(), 1))
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%d\t%.0f\t%.0f\t%.2f\t%.1f MiB\t\n", s.name, m.res.rate(), us(m.cpuPerRequest()),
			ms3(m.res.quantile(.5)), ms3(m.res.quantile(.9)), ms3(m.res.quantile(.99)), m.res.errors,
			float64(m.mallocs)/n, float64(m.alloc)/n, float64(m.statements)/n, float64(m.peak)/(1<<20))
	}
	tw.Flush()
	full, noVal, floor := &ms[0].res, &ms[2].res, &ms[3].res
	fmt.Fprintf(c.Out, "server CPU per request, floor/full: 200 %.2f, 200 read %.2f, 304 %.2f   throughput full/floor = %.2f   full/no-validator = %.2f   full p99/p50 = %.1f\n",
		ms[3].cpuPerRequest()/ms[0].cpuPerRequest(), ms[3].cpuPerRequest()/ms[1].cpuPerRequest(), ms[5].cpuPerRequest()/ms[4].cpuPerRequest(),
		full.rate()/floor.rate(), full.rate()/noVal.rate(), float64(full.quantile(.99))/float64(max(full.quantile(.5), 1)))

	failed := 0
	for _, m := range ms {
		failed += m.res.errors
	}
	defer func() {
		if failed > 0 && err == nil {
			err = fmt.Errorf("%d requests failed", failed)
		}
	}()
	if c.Soak > 0 {
		n, err := soak(ctx, c, ch, client, tokens)
		failed += n
		if err != nil {
			return err
		}
	}
	if len(c.Sweep) == 0 {
		return nil
	}
	fmt.Fprintf(c.Out, "\nsweep: concurrency %d, %s per scenario (%d rounds), %d users' tokens per point; the floor serves the point's typical answer, or a 304\n",
		c.SweepConcurrency, c.SweepDuration, rounds, c.SweepUsers)
	tw = c.table()
	fmt.Fprintln(tw, "memberships/user\tpath\tfull req/s\tfloor req/s\tfull CPU/req\tfloor CPU/req\tfloor/full CPU\tp50\tp99\terrors\tbytes/answer\tstmts/req\t")
	cost := map[string]map[int]float64{"200": {}, "200 read": {}, "304": {}}
	for i, m := range c.Sweep {
		t := target{host: sweepHost(m), tokens: sweepTokens[i]}
		full, read, floor := t, t, t
		full.url, read.url, floor.url = ch.addrs.Full+apiPath, ch.addrs.Read+apiPath, ch.addrs.Floor+apiPath
		typical, err := fetch(ctx, client, full)
		if err != nil {
			return err
		}
		if err := ch.post("/floor", typical); err != nil {
			return err
		}
		etags, err := etagsOf(ctx, client, full)
		if err != nil {
			return err
		}
		paths := []struct {
			name        string
			full, floor target
		}{{"200", full, floor}, {"200 read", read, floor}, {"304", full.revalidating(etags), floor.revalidating(etags)}}
		for _, p := range paths {
			drive(ctx, client, p.full, c.SweepConcurrency, c.SweepDuration/5)
			drive(ctx, client, p.floor, c.SweepConcurrency, c.SweepDuration/5)
			var fullM, floorM measured
			for r := range rounds {
				fmt.Fprintf(progress.Writer(c.Progress), "\r%s: sweep %d (%s), round %d/%d", name, m, p.name, r+1, rounds)
				d := c.SweepDuration / time.Duration(rounds)
				if err := fullM.run(ctx, ch, client, p.full, c.SweepConcurrency, d); err != nil {
					return err
				}
				if err := floorM.run(ctx, ch, client, p.floor, c.SweepConcurrency, d); err != nil {
					return err
				}
			}
			fmt.Fprint(progress.Writer(c.Progress), "\r\033[K")
			failed += fullM.res.errors + floorM.res.errors
			cost[p.name][m] = fullM.cpuPerRequest()
			fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.0f\t%s\t%s\t%.2f\t%s\t%s\t%d\t%d\t%.2f\t\n", m, p.name, fullM.res.rate(), floorM.res.rate(),
				us(fullM.cpuPerRequest()), us(floorM.cpuPerRequest()), floorM.cpuPerRequest()/fullM.cpuPerRequest(),
				ms3(fullM.res.quantile(.5)), ms3(fullM.res.quantile(.99)), fullM.res.errors+floorM.res.errors,
				len(typical), float64(fullM.statements)/float64(max(fullM.res.requests(), 1)))
		}
	}
	tw.Flush()
	for _, p := range []string{"200", "200 read", "304"} {
		if c10, c1000 := cost[p][10], cost[p][1000]; c10 > 0 && c1000 > 0 {
			fmt.Fprintf(c.Out, "%s: server CPU per request at 1000 / at 10 memberships = %.2f\n", p, c1000/c10)
		}
	}
	return nil
}

// measured adds up the runs of one scenario, with what the server process
// spent on them.
type measured struct {
	res        result
	mallocs    uint64
	alloc      uint64
	statements int64
	peak       int64
	cpu        int64 // nanoseconds of the server process's CPU
}

// run drives t for d and adds the run and the server's counters to m.
func (m *measured) run(ctx context.Context, ch *child, client *http.Client, t target, concurrency int, d time.Duration) error {
	before, err := ch.stats()
	if err != nil {
		return err
	}
	res := drive(ctx, client, t, concurrency, d)
	after, err := ch.stats()
	if err != nil {
		return err
	}
	m.res.add(res)
	m.mallocs += after.Mallocs - before.Mallocs
	m.alloc += after.TotalAlloc - before.TotalAlloc
	m.statements += after.Statements - before.Statements
	m.peak = max(m.peak, after.PeakRSS)
	m.cpu += after.CPU - before.CPU
	return nil
}

// cpuPerRequest is the server process's CPU per request, in nanoseconds:
// the cost that does not move with whatever else shares the machine.
func (m *measured) cpuPerRequest() float64 {
	return float64(m.cpu) / float64(max(m.res.requests(), 1))
}

func us(ns float64) string { return fmt.Sprintf("%.0fµs", ns/1e3) }

// etagsOf fetches each of t's tokens' answer once and returns their ETags,
// as the browser would hold them.
func etagsOf(ctx context.Context, c *http.Client, t target) ([]string, error) {
	out := make([]string, len(t.tokens))
	for i, tok := range t.tokens {
		one := t
		one.tokens = []string{tok}
		resp, err := get(ctx, c, one)
		if err != nil {
			return nil, err
		}
		if out[i] = resp.etag; out[i] == "" {
			return nil, fmt.Errorf("GET %s: a 200 without an ETag", t.url)
		}
	}
	return out, nil
}

const apiPath = "/me/workspace-memberships"

// soak drives the full server for c.Soak and prints a line per sample: the
// rate, errors, and the server's live heap (after a GC) and RSS. Memory must
// stay flat: the last third's live heap may not exceed the first third's
// peak by more than half (plus 8 MiB for noise) — a leak grows without bound
// under sustained load, caches and pools level off.
func soak(ctx context.Context, c Config, ch *child, client *http.Client, tokens []string) (failed int, err error) {
	fmt.Fprintf(c.Out, "\nsoak (full server): concurrency %d for %s, a sample every %s\n", c.Concurrency, c.Soak, c.SoakSample)
	tw := c.table()
	fmt.Fprintln(tw, "elapsed	req/s	p99	errors	live heap	RSS	")
	var heaps []uint64
	t := target{url: ch.addrs.Full + apiPath, host: mainHost, tokens: tokens}
	for elapsed := time.Duration(0); elapsed < c.Soak && ctx.Err() == nil; {
		d := min(c.SoakSample, c.Soak-elapsed)
		res := drive(ctx, client, t, c.Concurrency, d)
		elapsed += d
		s, err := ch.liveStats()
		if err != nil {
			return failed, err
		}
		failed += res.errors
		heaps = append(heaps, s.LiveHeap)
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%d\t%.1f MiB\t%.1f MiB\t\n", elapsed.Round(time.Second), res.rate(),
			ms3(res.quantile(.99)), res.errors, float64(s.LiveHeap)/(1<<20), float64(s.RSS)/(1<<20))
	}
	tw.Flush()
	if third := len(heaps) / 3; third > 0 {
		early, late := slices.Max(heaps[:third]), slices.Max(heaps[len(heaps)-third:])
		fmt.Fprintf(c.Out, "live heap: first third's peak %.1f MiB, last third's %.1f MiB\n", float64(early)/(1<<20), float64(late)/(1<<20))
		if late > early+early/2+8<<20 {
			return failed, fmt.Errorf("soak: live heap grew from %d to %d bytes", early, late)
		}
	}
	return failed, nil
}

func ms3(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

// prepare seeds the database and mints tokens: for the main deployment, and
// for each sweep deployment.
func prepare(ctx context.Context, c Config, dbURL string) (tokens []string, sweep [][]string, err error) {
	st, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	sc := seed.Config{
		Host: mainHost, Mode: domain.ModeProduction,
		Organizations: c.Organizations, WorkspacesPerOrganization: c.WorkspacesPerOrganization, Segments: c.Segments,
		RolesPerWorkspace: c.RolesPerWorkspace, Users: c.Users, MembershipsPerUser: c.MembershipsPerUser,
		RolesPerMembership: c.RolesPerMembership, ChunkUsers: 1_000, Seed: 1,
	}
	start := time.Now()
	if err := load(ctx, c.Progress, st, sc); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(c.Out, "seeded in %s (%d users per transaction)\n", time.Since(start).Round(10*time.Millisecond), sc.ChunkUsers)
	if tokens, err = mint(ctx, st, sc, c.Tokens); err != nil {
		return nil, nil, err
	}
	for _, m := range c.Sweep {
		s := sc
		s.Host, s.Users, s.MembershipsPerUser, s.ChunkUsers = sweepHost(m), c.SweepUsers, m, max(1, 20_000/max(m, 1))
		if err := load(ctx, c.Progress, st, s); err != nil {
			return nil, nil, err
		}
		t, err := mint(ctx, st, s, s.Users)
		if err != nil {
			return nil, nil, err
		}
		sweep = append(sweep, t)
	}
	return tokens, sweep, nil
}

// load generates a data set into st with a progress bar.
func load(ctx context.Context, w io.Writer, st domain.Store, sc seed.Config) error {
	bar := progress.Bar(w, sc.Users, "seeding "+sc.Host, progressbar.OptionClearOnFinish())
	defer bar.Finish()
	return seed.Generate(ctx, sc, func(ds *domain.Dataset, users int) error {
		if err := st.Load(ctx, ds); err != nil {
			return err
		}
		return bar.Set(users)
	})
}

// mint creates sessions for n users spread over the data set and signs their
// tokens, as `memberships token` does.
func mint(ctx context.Context, st domain.Store, sc seed.Config, n int) ([]string, error) {
	n = min(n, sc.Users)
	d, err := st.DeploymentByHost(ctx, sc.Host)
	if err != nil {
		return nil, err
	}
	pem, err := st.SigningKey(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	key, err := auth.ParsePrivateKey(pem)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	src := ids.NewSource(st, nil)
	out := make([]string, 0, n)
	for i := range n {
		u, err := st.FindUser(ctx, d.ID, seed.Email(sc, i*sc.Users/n))
		if err != nil {
			return nil, err
		}
		s := domain.NewSession{
			DeploymentID: d.ID, UserID: u.ID,
			CreatedAt: now, SignInExpiresAt: now.Add(auth.SignInLifetime), TokenValidUntil: now.Add(auth.SignInLifetime),
		}
		if err := auth.SessionIDs(ctx, src, &s); err != nil {
			return nil, err
		}
		if err := st.CreateSession(ctx, s); err != nil {
			return nil, err
		}
		tok, err := auth.Sign(key, auth.Issuer(d.Host), s.SessionID, s.RotatingTokenID, now, auth.TokenLifetime)
		if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
	return out, nil
}

// fetch gets the first token's answer, which must be a 200.
func fetch(ctx context.Context, c *http.Client, t target) ([]byte, error) {
	a, err := get(ctx, c, t)
	return a.body, err
}

type fetched struct {
	body []byte
	etag string
}

func get(ctx context.Context, c *http.Client, t target) (fetched, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	req.Host = t.host
	req.Header.Set("Cookie", "__session="+t.tokens[0])
	resp, err := c.Do(req)
	if err != nil {
		return fetched{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", t.url, resp.StatusCode, b)
	}
	return fetched{b, resp.Header.Get("ETag")}, err
}

// child is the server process.
type child struct {
	cmd   *exec.Cmd
	stdin io.Closer
	addrs childAddrs
}

func startChild(ctx context.Context, dbURL string, cacheTTL time.Duration) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-cache-ttl", cacheTTL.String())
	cmd.Env = append(os.Environ(), ChildEnv+"="+dbURL)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := &child{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &ch.addrs)
	}
	if err != nil {
		ch.stop()
		return nil, fmt.Errorf("starting the server process: %w", err)
	}
	return ch, nil
}

func (ch *child) stop() {
	ch.stdin.Close()
	done := make(chan struct{})
	go func() { ch.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		ch.cmd.Process.Kill()
		<-done
	}
}

func (ch *child) post(path string, body []byte) error {
	resp, err := http.Post(ch.addrs.Control+path, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(path + ": " + resp.Status)
	}
	return nil
}

func (ch *child) stats() (stats, error) { return ch.getStats("/stats") }

// liveStats is stats after a garbage collection, with LiveHeap.
func (ch *child) liveStats() (stats, error) { return ch.getStats("/stats?gc=1") }

func (ch *child) getStats(path string) (stats, error) {
	var s stats
	resp, err := http.Get(ch.addrs.Control + path)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// freshSchema creates a schema of its own on the server at base and returns
// the URL that uses it, and a function that drops it.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { exec("DROP SCHEMA " + schema + " CASCADE") }, nil
}
