// Package writers proves the served answer equals the tables under any
// writer: random sequences of plain-SQL writes, as another program on the
// shared database would make them, each followed by polls of a warm
// instance and a cold one, both compared with internal/store/oracle, and by
// revalidation of every ETag issued before: one naming an answer the tables
// no longer give must never get a 304.
//
// Tests only.
package writers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/contracttest"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/ids"
	"github.com/wachtbench/memberships/internal/loadfile"
	"github.com/wachtbench/memberships/internal/store"
	"github.com/wachtbench/memberships/internal/store/fragment"
	"github.com/wachtbench/memberships/internal/store/oracle"
	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
	"github.com/wachtbench/memberships/server"
)

const host = "w.test"

// The fixture's users, and the client addresses polls come from (inside and
// outside the allow-lists).
var (
	users     = []int64{120, 121, 122}
	addresses = []string{"10.1.2.3", "192.0.2.1", "203.0.113.9", "2001:db8::1"}
	orgs      = []int64{130, 160, 0} // 0: org_id=0, no organization's
)

// env is one database with a warm instance on it, the sessions of the
// fixture's users, and a raw connection for the other writer.
type env struct {
	tb      testing.TB
	url     string
	pg      bool
	dialect oracle.Dialect
	warm    http.Handler
	metrics *prometheus.Registry // the warm instance's
	raw     *sql.DB              // the other writer, one connection (SQLite pragmas stick)
	raw2    *sql.DB              // a second writer (PostgreSQL concurrency)
	tokens  []string             // per user
	ctx     context.Context
	now     time.Time
	backup  string            // SQLite: a backup file; PostgreSQL: "taken"
	seqs    map[string][2]any // PostgreSQL: the sequences at the backup
	closers []func()
}

func newEnv(tb testing.TB, pg bool) *env {
	tb.Helper()
	e := &env{tb: tb, pg: pg, ctx: context.Background(), now: time.Now()}
	if pg {
		e.url, e.dialect = pgtest.URL(tb), oracle.PostgreSQL
	} else {
		e.url, e.dialect = filepath.Join(tb.TempDir(), "w.db"), oracle.SQLite
	}
	st, err := store.Open(e.ctx, e.url, store.Options{Fragments: fragment.NewCache(0)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	data, err := os.ReadFile("testdata/fixture.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	ds, err := loadfile.Parse("fixture.yaml", data, e.now.Add(-time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Load(e.ctx, ds); err != nil {
		tb.Fatal(err)
	}
	e.metrics = server.NewRegistry()
	if e.warm, err = server.New(server.Config{Registry: e.metrics}, st); err != nil {
		tb.Fatal(err)
	}
	d, err := st.DeploymentByHost(e.ctx, host)
	if err != nil {
		tb.Fatal(err)
	}
	pem, err := st.SigningKey(e.ctx, d.ID)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := auth.ParsePrivateKey(pem)
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range users {
		s := domain.NewSession{
			DeploymentID: d.ID, UserID: u, SessionID: ids.New(), SignInID: ids.New(), RotatingTokenID: ids.New(),
			CreatedAt: e.now.Add(-time.Minute), SignInExpiresAt: e.now.Add(24 * time.Hour), TokenValidUntil: e.now.Add(24 * time.Hour),
		}
		if err := st.CreateSession(e.ctx, s); err != nil {
			tb.Fatal(err)
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
			"iss": auth.Issuer(host), "sess": strconv.FormatInt(s.SessionID, 10),
			"rotating_token": strconv.FormatInt(s.RotatingTokenID, 10),
			"iat":            e.now.Unix(), "nbf": e.now.Add(-time.Minute).Unix(), "exp": e.now.Add(5 * time.Hour).Unix(),
		}).SignedString(key)
		if err != nil {
			tb.Fatal(err)
		}
		e.tokens = append(e.tokens, tok)
	}
	e.raw = storetest.RawDB(tb, e.url)
	e.raw.SetMaxOpenConns(1)
	if pg {
		e.raw2 = storetest.RawDB(tb, e.url)
	}
	return e
}

// poll is one request: whose, from where, which filter, which ETag held.
type poll struct {
	user     int // index into users
	addr     string
	org      int64 // when filtered
	filtered bool
	inm      string
}

func (p poll) key() string { return fmt.Sprintf("%d %s %d %v", p.user, p.addr, p.org, p.filtered) }

func (e *env) request(p poll) *http.Request {
	path := "/me/workspace-memberships"
	if p.filtered {
		path += "?org_id=" + strconv.FormatInt(p.org, 10)
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = host
	req.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(p.addr), 40000).String()
	req.Header.Set("Cookie", "__session="+e.tokens[p.user])
	if p.inm != "" {
		req.Header.Set("If-None-Match", p.inm)
	}
	return req
}

// served is an answer as the oracle states them, with its ETag.
type served struct {
	status int
	body   any
	etag   string
	raw    string
}

// serve runs p on h; the answer is checked against the contract.
func (e *env) serve(tb testing.TB, h http.Handler, p poll) served {
	rec := contracttest.Serve(tb, h, e.request(p))
	s := served{status: rec.Code, etag: rec.Header().Get("ETag"), raw: rec.Body.String()}
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &s.body); err != nil {
			tb.Fatalf("%s: %v", rec.Body, err)
		}
	}
	return s
}

// expect is the oracle's answer to p now.
func (e *env) expect(tb testing.TB, t oracle.Tables, p poll) oracle.Answer {
	r := oracle.Request{Host: host, SessionID: e.sessionID(tb, p.user), ClientIP: netip.MustParseAddr(p.addr), Now: time.Now()}
	if p.filtered {
		r.OrgID = &p.org
	}
	return t.Compute(r)
}

// sessionID reads the session id back from the token (the oracle needs it;
// the token is the fixture's own).
func (e *env) sessionID(tb testing.TB, user int) int64 {
	var c jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(e.tokens[user], &c); err != nil {
		tb.Fatal(err)
	}
	id, err := strconv.ParseInt(c["sess"].(string), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// same reports whether a served answer is the oracle's.
func same(s served, a oracle.Answer) bool {
	if s.status != a.Status {
		return false
	}
	return a.Status != http.StatusOK || reflect.DeepEqual(s.body, a.Body)
}

func describe(s served, a oracle.Answer) string {
	want, _ := json.MarshalIndent(a.Body, "", " ")
	got := s.raw
	if s.body != nil {
		b, _ := json.MarshalIndent(s.body, "", " ")
		got = string(b)
	}
	if s.status == a.Status {
		return fmt.Sprintf("differs at %s\nserved:\n%s\noracle:\n%s", strings.Join(diff("", s.body, a.Body), ", "), got, want)
	}
	return fmt.Sprintf("served %d:\n%s\noracle %d:\n%s", s.status, got, a.Status, want)
}

// diff lists the paths where two decoded JSON values differ.
func diff(path string, a, b any) []string {
	switch a := a.(type) {
	case map[string]any:
		if b, ok := b.(map[string]any); ok {
			var out []string
			for k := range a {
				out = append(out, diff(path+"."+k, a[k], b[k])...)
			}
			for k := range b {
				if _, ok := a[k]; !ok {
					out = append(out, path+"."+k)
				}
			}
			return out
		}
	case []any:
		if b, ok := b.([]any); ok && len(a) == len(b) {
			var out []string
			for i := range a {
				out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), a[i], b[i])...)
			}
			return out
		}
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []string{fmt.Sprintf("%s (%v, want %v)", path, short(a), short(b))}
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// cold starts a new instance on the database, with empty caches.
func (e *env) cold(tb testing.TB) (http.Handler, func()) {
	st, err := store.Open(e.ctx, e.url, store.Options{Fragments: fragment.NewCache(0)})
	if err != nil {
		tb.Fatal(err)
	}
	h, err := server.New(server.Config{}, st)
	if err != nil {
		st.Close()
		tb.Fatal(err)
	}
	return h, func() { st.Close() }
}

// tables reads the oracle's snapshot.
func (e *env) tables(tb testing.TB) oracle.Tables {
	t, err := oracle.Read(e.ctx, e.raw, e.dialect)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// check polls the warm instance and a cold one for p and compares both with
// the oracle; it returns the warm answer.
func (e *env) check(tb testing.TB, t oracle.Tables, p poll, cold http.Handler) served {
	want := e.expect(tb, t, p)
	w := e.serve(tb, e.warm, p)
	if !same(w, want) {
		tb.Fatalf("warm instance, %s: %s", p.key(), describe(w, want))
	}
	if cold != nil {
		c := e.serve(tb, cold, p)
		if !same(c, want) {
			tb.Fatalf("cold instance, %s: %s", p.key(), describe(c, want))
		}
	}
	return w
}

// eachStore runs test on SQLite and on PostgreSQL (skipped without a server).
func eachStore(t *testing.T, test func(t *testing.T, pg bool)) {
	t.Run("sqlite", func(t *testing.T) { test(t, false) })
	t.Run("postgres", func(t *testing.T) {
		pgtest.Skip(t)
		test(t, true)
	})
}

// unchanged is how many revalidations the warm instance answered from the
// change feed, without reading the answer.
func (e *env) unchanged() float64 {
	return e.counter("memberships_revalidations_total", "result", "unchanged")
}

// kept is how many answers the warm instance sent from what it kept, 304s
// and 200s, without reading them.
func (e *env) kept() float64 {
	return e.counter("memberships_answers_total", "source", "kept")
}

// counter is the warm instance's counter name{label="value"}.
func (e *env) counter(name, label, value string) float64 {
	mfs, err := e.metrics.Gather()
	if err != nil {
		e.tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
