package writers

import (
	"flag"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

func sortStrings(s []string) { sort.Strings(s) }

// fixedSeed is the seed every run starts with; a fresh one follows, printed.
const fixedSeed = 20261206

// The budget of `make test`: a few sequences per store and seed. `make
// test-writers` passes -rapid.checks and -rapid.steps for a longer run.
const (
	defaultChecks = 6
	defaultSteps  = 30
)

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// TestWriters: random sequences of writes by another program, each step
// followed by polls of a warm instance and a cold one, compared with the
// oracle, and revalidation of the ETags issued before.
func TestWriters(t *testing.T) {
	if !flagSet("rapid.checks") {
		flag.Set("rapid.checks", strconv.Itoa(defaultChecks))
		defer flag.Set("rapid.checks", "100")
	}
	if !flagSet("rapid.steps") {
		flag.Set("rapid.steps", strconv.Itoa(defaultSteps))
		defer flag.Set("rapid.steps", "30")
	}
	seeds := []uint64{fixedSeed, rand.Uint64()}
	if flagSet("rapid.seed") {
		seeds = nil // rapid's own flag decides
	}
	eachStore(t, func(t *testing.T, pg bool) {
		unchanged, kept = 0, 0
		defer func() {
			// The proof covers the 304s answered from the change feed, and
			// the 200s sent again as kept, only if there were some.
			t.Logf("%.0f revalidations answered from the change feed, %.0f 200s sent as kept", unchanged, kept-unchanged)
			if !t.Failed() && unchanged == 0 {
				t.Error("no revalidation was answered from the change feed")
			}
			if !t.Failed() && kept-unchanged <= 0 {
				t.Error("no 200 was sent from what was kept")
			}
		}()
		if seeds == nil {
			rapid.Check(t, func(rt *rapid.T) { machine(t, rt, pg) })
			return
		}
		for _, seed := range seeds {
			t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
				t.Logf("seed %d (reproduce with -rapid.seed=%d)", seed, seed)
				flag.Set("rapid.seed", strconv.FormatUint(seed, 10))
				defer flag.Set("rapid.seed", "0")
				rapid.Check(t, func(rt *rapid.T) { machine(t, rt, pg) })
			})
		}
	})
}

// issued is an answer the warm instance gave, kept to revalidate later.
type issued struct {
	p    poll
	etag string
	body any
}

// unchanged counts the warm instances' 304s answered from the change feed,
// kept those and the 200s sent as kept.
var unchanged, kept float64

func machine(t *testing.T, rt *rapid.T, pg bool) {
	e := newEnv(rtb{TB: t, rt: rt}, pg)
	defer func() { unchanged, kept = unchanged+e.unchanged(), kept+e.kept() }()
	if !pg && rapid.Bool().Draw(rt, "foreign keys off") {
		// Half the sequences run as the sqlite3 shell does by default.
		if _, err := e.raw.ExecContext(e.ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			rt.Fatal(err)
		}
	}
	var held []issued
	write := func(rt *rapid.T) {
		w := e.drawWrite(rt)
		err := e.exec(e.raw, w)
		rt.Logf("write %s: %v", w, err)
	}
	// Writes are drawn six times as often as a backup or a restore.
	actions := map[string]func(*rapid.T){
		"write": write, "write 2": write, "write 3": write, "write 4": write, "write 5": write, "write 6": write,
		"backup": func(rt *rapid.T) {
			if err := e.takeBackup(); err != nil {
				rt.Fatalf("backup: %v", err)
			}
			rt.Logf("backup taken")
		},
		"restore": func(rt *rapid.T) {
			if e.backup == "" {
				rt.Skip("no backup yet")
			}
			if err := e.restore(); err != nil {
				rt.Fatalf("restore: %v", err)
			}
			rt.Logf("backup restored")
		},
		"": func(rt *rapid.T) {
			tb := rtb{TB: t, rt: rt}
			tables := e.tables(tb)
			cold, done := e.cold(tb)
			defer done()
			p := poll{
				user: rapid.IntRange(0, len(users)-1).Draw(rt, "user"),
				addr: rapid.SampledFrom(addresses).Draw(rt, "addr"),
			}
			if rapid.IntRange(0, 3).Draw(rt, "filtered") == 0 {
				p.org, p.filtered = rapid.SampledFrom(orgs).Draw(rt, "org"), true
			}
			for u := range users {
				q := p
				q.user = u
				c := cold
				if u != p.user {
					c = nil
				}
				s := e.check(tb, tables, q, c)
				if s.status == http.StatusOK {
					held = append(held, issued{p: q, etag: s.etag, body: s.body})
				}
			}
			// Every ETag issued before: 304 only while its answer is the
			// oracle's now.
			keep := held[:0]
			for _, h := range held {
				want := e.expect(tb, tables, h.p)
				q := h.p
				q.inm = h.etag
				s := e.serve(tb, e.warm, q)
				fresh := want.Status == http.StatusOK && same(served{status: 200, body: h.body}, want)
				if s.status == http.StatusNotModified && !fresh {
					rt.Fatalf("ETag %s of an answer the tables no longer give got a 304 (%s)", h.etag, h.p.key())
				}
				if s.status != http.StatusNotModified && s.status == http.StatusOK && fresh {
					rt.Fatalf("ETag %s of the current answer got 200, not 304 (%s)", h.etag, h.p.key())
				}
				if !fresh {
					continue // an answer gone stays gone: no need to ask again
				}
				keep = append(keep, h)
			}
			held = keep
			if len(held) > 24 {
				held = held[len(held)-24:]
			}
		},
	}
	if pg {
		actions["concurrent writes"] = func(rt *rapid.T) {
			a, b := e.drawWrite(rt), e.drawWrite(rt)
			rt.Logf("concurrently: %s | %s", a, b)
			e.concurrently(a, b)
		}
	}
	rt.Repeat(actions)
}

// rtb makes a rapid.T a testing.TB for helpers that take one (the contract
// check): failures go to rapid, which shrinks them.
type rtb struct {
	testing.TB
	rt *rapid.T
}

func (r rtb) Helper()                      {}
func (r rtb) Cleanup(f func())             { r.rt.Cleanup(f) }
func (r rtb) Fatal(args ...any)            { r.rt.Fatal(args...) }
func (r rtb) Fatalf(f string, args ...any) { r.rt.Fatalf(f, args...) }
func (r rtb) Error(args ...any)            { r.rt.Error(args...) }
func (r rtb) Errorf(f string, args ...any) { r.rt.Errorf(f, args...) }
func (r rtb) FailNow()                     { r.rt.FailNow() }
func (r rtb) Fail()                        { r.rt.Fail() }
func (r rtb) Failed() bool                 { return r.rt.Failed() }
func (r rtb) Log(args ...any)              { r.rt.Log(args...) }
func (r rtb) Logf(f string, args ...any)   { r.rt.Logf(f, args...) }
