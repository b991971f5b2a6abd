package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
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
	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
	"github.com/wachtbench/memberships/server"
)

// eachStore runs a test on SQLite, then on PostgreSQL (skipped, saying why,
// unless MEMBERSHIPS_TEST_POSTGRES names a server), each time on a fresh,
// empty database: a file, or a schema of its own.
func eachStore(t *testing.T, test func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, tempSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtest.URL(t)) })
}

func tempSQLite(t testing.TB) string { return filepath.Join(t.TempDir(), "test.db") }

// env is a server over a real store at db loaded with testdata/fixture.yaml.
type env struct {
	t     testing.TB
	store domain.Store
	h     http.Handler
	path  string  // the database: a file or a URL
	raw   *sql.DB // db(), opened on first use
}

func newEnv(t testing.TB, db string, cfg server.Config) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{Fragments: cfg.Fragments, TracerProvider: cfg.TracerProvider})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	data, err := os.ReadFile("testdata/fixture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := loadfile.Parse("fixture.yaml", data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	h, err := server.New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: st, h: h, path: db}
}

// session creates a session for a user and returns its signed token.
func (e *env) session(host, user string, mod func(*domain.NewSession)) string {
	e.t.Helper()
	ctx := context.Background()
	d, err := e.store.DeploymentByHost(ctx, host)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.store.FindUser(ctx, d.ID, user)
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	s := domain.NewSession{
		DeploymentID: d.ID, UserID: u.ID, SessionID: ids.New(), SignInID: ids.New(), RotatingTokenID: ids.New(),
		CreatedAt: now.Add(-time.Minute), SignInExpiresAt: now.Add(time.Hour), TokenValidUntil: now.Add(time.Hour),
	}
	if mod != nil {
		mod(&s)
	}
	if err := e.store.CreateSession(ctx, s); err != nil {
		e.t.Fatal(err)
	}
	return e.sign(host, jwt.SigningMethodES256, e.key(host), claims(d.Host, s.SessionID, s.RotatingTokenID, now))
}

// db is a connection of its own to the store's database, for what the
// domain cannot read or write.
func (e *env) db() *sql.DB {
	if e.raw == nil {
		e.raw = storetest.RawDB(e.t, e.path)
	}
	return e.raw
}

// sql changes one row the domain has no write for (sign-outs, deletions) on
// either store: the query uses ? placeholders (storetest.ExecOne).
func (e *env) sql(query string, args ...any) {
	e.t.Helper()
	if err := storetest.ExecOne(context.Background(), e.db(), e.path, query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

func (e *env) key(host string) *ecdsa.PrivateKey {
	e.t.Helper()
	ctx := context.Background()
	d, err := e.store.DeploymentByHost(ctx, host)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.store.SigningKey(ctx, d.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := auth.ParsePrivateKey(p)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// expired returns a token that expired a minute ago, of a new session whose
// rotating token is valid until validUntil.
func (e *env) expired(host, user string, validUntil time.Time) string {
	e.t.Helper()
	var s domain.NewSession
	e.session(host, user, func(n *domain.NewSession) { n.TokenValidUntil = validUntil; s = *n })
	d, err := e.store.DeploymentByHost(context.Background(), host)
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	return e.sign(host, jwt.SigningMethodES256, e.key(host), expiredClaims(claims(d.Host, s.SessionID, s.RotatingTokenID, now), now))
}

func expiredClaims(c jwt.MapClaims, now time.Time) jwt.MapClaims {
	c["iat"], c["nbf"], c["exp"] = now.Add(-7*time.Hour).Unix(), now.Add(-7*time.Hour).Unix(), now.Add(-time.Minute).Unix()
	return c
}

func claims(host string, session, rotating int64, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": auth.Issuer(host), "sess": strconv.FormatInt(session, 10), "rotating_token": strconv.FormatInt(rotating, 10),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func (e *env) sign(_ string, m jwt.SigningMethod, key any, c jwt.Claims) string {
	e.t.Helper()
	tok, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

type call struct {
	method, host, path, cookie, remote, body string
	header                                   http.Header
}

// do runs a request in-process; the response is checked against the contract.
func (e *env) do(c call) *httptest.ResponseRecorder {
	e.t.Helper()
	if c.method == "" {
		c.method = http.MethodGet
	}
	if c.path == "" {
		c.path = "/me/workspace-memberships"
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.path, body)
	req.Host = c.host
	if c.remote != "" {
		req.RemoteAddr = c.remote
	}
	if c.cookie != "" {
		req.Header.Set("Cookie", "__session="+c.cookie)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	return contracttest.Serve(e.t, e.h, req)
}

type answer struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	Data    []struct {
		ID             string         `json:"id"`
		OrganizationID string         `json:"organization_id"`
		UserID         string         `json:"user_id"`
		PublicMetadata map[string]any `json:"public_metadata"`
		CreatedAt      string         `json:"created_at"`
		Roles          []struct {
			Name        string   `json:"name"`
			Permissions []string `json:"permissions"`
		} `json:"roles"`
		Workspace struct {
			ID              string         `json:"id"`
			Name            string         `json:"name"`
			MemberCount     int            `json:"member_count"`
			PrivateMetadata map[string]any `json:"private_metadata"`
			PublicMetadata  map[string]any `json:"public_metadata"`
			CreatedAt       string         `json:"created_at"`
			Segments        []struct {
				Name         string `json:"name"`
				DeploymentID string `json:"deployment_id"`
			} `json:"segments"`
		} `json:"workspace"`
		Organization struct {
			ID                      string         `json:"id"`
			PrivateMetadata         map[string]any `json:"private_metadata"`
			AutoAssignedWorkspaceID string         `json:"auto_assigned_workspace_id"`
			CreatedAt               string         `json:"created_at"`
			MemberCount             int            `json:"member_count"`
		} `json:"organization"`
		Eligibility struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"eligibility_restriction"`
	} `json:"data"`
	Session struct {
		ID string `json:"id"`
	} `json:"session"`
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %s: %v", rec.Body, err)
	}
	return v
}

type envelope struct {
	Errors []struct {
		Message string `json:"message"`
		Code    int    `json:"code"`
	} `json:"errors"`
}

// expectError checks status and code of an error envelope.
func expectError(t *testing.T, rec *httptest.ResponseRecorder, status, code int) envelope {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	env := decode[envelope](t, rec)
	if len(env.Errors) != 1 || env.Errors[0].Code != code || env.Errors[0].Message == "" {
		t.Fatalf("envelope %s, want code %d", rec.Body, code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	return env
}

func TestAnswer(t *testing.T) { eachStore(t, testAnswer) }

func testAnswer(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	tok := e.session("prod.test", "alice@example.com", nil)
	rec := e.do(call{host: "prod.test:8443", cookie: tok, remote: "192.0.2.1:5555"})
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "private, no-cache" {
		t.Errorf("Cache-Control %q", cc)
	}
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %q for a body of %d bytes", cl, rec.Body.Len())
	}
	a := decode[answer](t, rec)
	if a.Status != 200 || a.Message != "" || a.Session.ID == "" {
		t.Errorf("envelope fields: %+v", a)
	}
	// Newest first, id desc on equal times; soft-deleted rows absent.
	var got []string
	for _, m := range a.Data {
		got = append(got, m.ID+":"+m.Eligibility.Type)
	}
	want := []string{"156:ip_and_mfa_required", "154:mfa_required", "152:ip_not_allowed", "171:none", "150:none"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("memberships\n got %v\nwant %v", got, want)
	}
	messages := map[string]string{
		"none":                "",
		"ip_not_allowed":      "You must connect from an allowed IP address to access this workspace.",
		"mfa_required":        "You must set up Multi-Factor Authentication to access this workspace.",
		"ip_and_mfa_required": "You must connect from an allowed IP address and set up Multi-Factor Authentication to access this workspace.",
	}
	for _, m := range a.Data {
		if m.Eligibility.Message != messages[m.Eligibility.Type] {
			t.Errorf("%s: message %q", m.ID, m.Eligibility.Message)
		}
		if len(m.Workspace.PrivateMetadata) != 0 || len(m.Organization.PrivateMetadata) != 0 {
			t.Errorf("%s: private metadata served", m.ID)
		}
		if m.UserID != "120" {
			t.Errorf("%s: user %s", m.ID, m.UserID)
		}
	}
	open := a.Data[4]
	if open.Workspace.CreatedAt != "2025-07-01T09:00:00Z" || open.CreatedAt != "2026-01-01T00:00:00Z" || open.Organization.CreatedAt != "2025-06-01T08:00:00Z" {
		t.Errorf("timestamps: membership %s workspace %s organization %s", open.CreatedAt, open.Workspace.CreatedAt, open.Organization.CreatedAt)
	}
	if open.Workspace.MemberCount != 2 || open.Organization.MemberCount != 3 {
		t.Errorf("member counts: workspace %d organization %d", open.Workspace.MemberCount, open.Organization.MemberCount)
	}
	if open.Organization.AutoAssignedWorkspaceID != "140" || a.Data[3].Organization.AutoAssignedWorkspaceID != "" {
		t.Errorf("auto_assigned_workspace_id: %q %q", open.Organization.AutoAssignedWorkspaceID, a.Data[3].Organization.AutoAssignedWorkspaceID)
	}
	if open.PublicMetadata["team"] != "core" || open.Workspace.PublicMetadata["nested"].(map[string]any)["ünï"] != "cödé" {
		t.Errorf("metadata: %v %v", open.PublicMetadata, open.Workspace.PublicMetadata)
	}
	if len(open.Roles) != 1 || open.Roles[0].Name != "Viewer" || open.Roles[0].Permissions == nil {
		t.Errorf("roles: %+v", open.Roles)
	}
	if len(open.Workspace.Segments) != 1 || open.Workspace.Segments[0].DeploymentID != "100" {
		t.Errorf("segments: %+v", open.Workspace.Segments)
	}
	if strings.Contains(rec.Body.String(), "never-served") || strings.Contains(rec.Body.String(), "hidden") {
		t.Error("private metadata leaked")
	}
}

func TestOrgFilter(t *testing.T) { eachStore(t, testOrgFilter) }

func testOrgFilter(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	tok := e.session("prod.test", "alice@example.com", nil)
	for _, tc := range []struct {
		org  string
		want int
	}{{"130", 4}, {"160", 1}, {"230", 0}, {"999", 0}, {"0", 0}, {"9223372036854775807", 0}} {
		rec := e.do(call{host: "prod.test", cookie: tok, path: "/me/workspace-memberships?org_id=" + tc.org})
		if rec.Code != 200 {
			t.Fatalf("org %s: %d %s", tc.org, rec.Code, rec.Body)
		}
		a := decode[answer](t, rec)
		if len(a.Data) != tc.want || !strings.Contains(rec.Body.String(), `"data":[`) {
			t.Errorf("org %s: %d memberships, want %d", tc.org, len(a.Data), tc.want)
		}
		for _, m := range a.Data {
			if m.OrganizationID != tc.org {
				t.Errorf("org %s: got membership of %s", tc.org, m.OrganizationID)
			}
		}
	}
	for _, bad := range []string{"abc", "-1", "9223372036854775808", "99999999999999999999", "01", "%EF%BC%91%EF%BC%92", "1%20OR%201=1", "1.0", "%20", "0x10", "+5"} {
		rec := e.do(call{host: "prod.test", cookie: tok, path: "/me/workspace-memberships?org_id=" + bad})
		env := expectError(t, rec, 400, 1000)
		if !strings.Contains(env.Errors[0].Message, "org_id") {
			t.Errorf("org_id=%s: message %q does not name the parameter", bad, env.Errors[0].Message)
		}
	}
}

func TestAuthentication(t *testing.T) { eachStore(t, testAuthentication) }

func testAuthentication(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	now := time.Now()
	good := e.session("prod.test", "alice@example.com", nil)
	ctx := context.Background()
	d, _ := e.store.DeploymentByHost(ctx, "prod.test")
	u, _ := e.store.FindUser(ctx, d.ID, "alice@example.com")
	sid, rid := ids.New(), ids.New()
	if err := e.store.CreateSession(ctx, domain.NewSession{DeploymentID: d.ID, UserID: u.ID, SessionID: sid, SignInID: ids.New(), RotatingTokenID: rid,
		CreatedAt: now, SignInExpiresAt: now.Add(time.Hour), TokenValidUntil: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	key := e.key("prod.test")
	signed := func(mod func(jwt.MapClaims)) string {
		c := claims("prod.test", sid, rid, now)
		mod(c)
		return e.sign("", jwt.SigningMethodES256, key, c)
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubDER := d.PublicKeyPEM // the HS256 "secret" an attacker knows
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://prod.test","sess":"1","rotating_token":"1","iat":1,"nbf":1,"exp":99999999999}`)) + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	expiredSignIn := e.session("prod.test", "alice@example.com", func(s *domain.NewSession) { s.SignInExpiresAt = now.Add(-time.Second) })
	devTok := e.session("staging.test", "dev@example.com", nil)
	var signedOutID, deletedID int64
	signedOut := e.session("prod.test", "alice@example.com", func(s *domain.NewSession) { signedOutID = s.SignInID })
	deleted := e.session("prod.test", "alice@example.com", func(s *domain.NewSession) { deletedID = s.SessionID })
	e.sql(`UPDATE sign_ins SET signed_out_at = ? WHERE id = ?`, now, signedOutID)
	e.sql(`UPDATE sessions SET deleted_at = ? WHERE id = ?`, now, deletedID)
	otherDeployment := e.session("other.test", "alice@example.com", nil)

	for _, tc := range []struct {
		name, host, cookie, query string
		status, code              int
	}{
		{"good", "prod.test", good, "", 200, 0},
		{"alias host", "alias.prod.test", good, "", 200, 0},
		{"missing cookie", "prod.test", "", "", 401, 1100},
		{"garbage", "prod.test", "garbage", "", 401, 1101},
		{"alg none", "prod.test", none, "", 401, 1101},
		{"HS256 with public key", "prod.test", e.sign("", jwt.SigningMethodHS256, pubDER, claims("prod.test", sid, rid, now)), "", 401, 1101},
		{"other key", "prod.test", e.sign("", jwt.SigningMethodES256, otherKey, claims("prod.test", sid, rid, now)), "", 401, 1101},
		{"other deployment's token", "prod.test", otherDeployment, "", 401, 1101},
		{"wrong issuer", "prod.test", signed(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" }), "", 401, 1101},
		{"expired, session past valid_until", "prod.test", e.expired("prod.test", "alice@example.com", now.Add(-time.Second)), "", 401, 1102},
		{"expired and forged", "prod.test", e.sign("", jwt.SigningMethodES256, otherKey, expiredClaims(claims("prod.test", sid, rid, now), now)), "", 401, 1101},
		{"iat in the future", "prod.test", signed(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }), "", 401, 1101},
		{"no nbf", "prod.test", signed(func(c jwt.MapClaims) { delete(c, "nbf") }), "", 401, 1101},
		{"not yet valid", "prod.test", signed(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), "", 401, 1102},
		{"no exp", "prod.test", signed(func(c jwt.MapClaims) { delete(c, "exp") }), "", 401, 1101},
		{"non-numeric sess", "prod.test", signed(func(c jwt.MapClaims) { c["sess"] = "abc" }), "", 401, 1101},
		{"numeric sess claim", "prod.test", signed(func(c jwt.MapClaims) { c["sess"] = sid }), "", 401, 1101},
		{"string exp", "prod.test", signed(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }), "", 401, 1101},
		{"tampered claims", "prod.test", tampered, "", 401, 1101},
		{"unknown session", "prod.test", signed(func(c jwt.MapClaims) { c["sess"] = "12345" }), "", 401, 1103},
		{"expired sign-in", "prod.test", expiredSignIn, "", 401, 1103},
		{"signed-out sign-in", "prod.test", signedOut, "", 401, 1103},
		{"deleted session", "prod.test", deleted, "", 401, 1103},
		{"dev query on production", "prod.test", "", good, 401, 1100},
		{"dev query on staging", "staging.test", "", devTok, 200, 0},
		{"cookie first on staging", "staging.test", "garbage", devTok, 401, 1101},
		{"unknown deployment", "nowhere.test", good, "", 404, 1200},
		{"huge token", "prod.test", strings.Repeat("a", 5000), "", 401, 1101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/me/workspace-memberships"
			if tc.query != "" {
				path += "?__dev_session__=" + tc.query
			}
			rec := e.do(call{host: tc.host, cookie: tc.cookie, path: path})
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				return
			}
			expectError(t, rec, tc.status, tc.code)
		})
	}
}

func TestClientIP(t *testing.T) { eachStore(t, testClientIP) }

func testClientIP(t *testing.T, db string) {
	// The proxies sit in 10/8, which the allow-list of workspace 142 covers.
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.200.0.0/16")}
	e := newEnv(t, db, server.Config{TrustedProxies: trusted})
	tok := e.session("prod.test", "alice@example.com", nil)
	restriction := func(remote, xff string) string {
		h := http.Header{}
		if xff != "" {
			h.Set("X-Forwarded-For", xff)
		}
		rec := e.do(call{host: "prod.test", cookie: tok, remote: remote, header: h, path: "/me/workspace-memberships?org_id=130"})
		for _, m := range decode[answer](t, rec).Data {
			if m.Workspace.ID == "142" {
				return m.Eligibility.Type
			}
		}
		t.Fatal("workspace 142 missing")
		return ""
	}
	for _, tc := range []struct{ remote, xff, want string }{
		{"10.1.2.3:1000", "", "none"},
		{"192.0.2.1:1000", "", "ip_not_allowed"},
		{"203.0.113.7:1000", "", "none"},
		{"[2001:db8::5]:1000", "", "none"},
		{"[2001:db9::5]:1000", "", "ip_not_allowed"},
		{"192.0.2.1:1000", "10.1.2.3", "ip_not_allowed"},            // spoofed from an untrusted peer
		{"127.0.0.1:1000", "10.1.2.3", "none"},                      // through the trusted proxy
		{"127.0.0.1:1000", "10.1.2.3, 192.0.2.9", "ip_not_allowed"}, // right-most untrusted wins
		{"127.0.0.1:1000", "192.0.2.9, 10.1.2.3, 127.0.0.1", "none"},
		// Fails closed: a chain that never leaves the trusted proxies, or
		// breaks before it does, is an unknown address, not the proxy's own.
		{"10.200.0.1:1000", "", "ip_not_allowed"},
		{"10.200.0.1:1000", "10.200.0.2, 127.0.0.1", "ip_not_allowed"},
		{"10.200.0.1:1000", "10.1.2.3, not-an-ip", "ip_not_allowed"},
		{"10.200.0.1:1000", "10.1.2.3, 10.200.0.2", "none"},
	} {
		if got := restriction(tc.remote, tc.xff); got != tc.want {
			t.Errorf("peer %s XFF %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestMFA(t *testing.T) { eachStore(t, testMFA) }

func testMFA(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	for user, want := range map[string]map[string]string{
		"bob@example.com":   {"155": "none", "157": "none", "153": "ip_not_allowed"},
		"carol@example.com": {"159": "none"},
	} {
		rec := e.do(call{host: "prod.test", cookie: e.session("prod.test", user, nil), remote: "192.0.2.1:1"})
		got := map[string]string{}
		for _, m := range decode[answer](t, rec).Data {
			got[m.ID] = m.Eligibility.Type
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s membership %s: %q, want %q", user, id, got[id], w)
			}
		}
	}
}

func TestRoutingErrors(t *testing.T) { eachStore(t, testRoutingErrors) }

func testRoutingErrors(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	expectError(t, e.do(call{host: "prod.test", path: "/nope"}), 404, 1201)
	expectError(t, e.do(call{host: "prod.test", path: "/me/workspace-memberships/extra"}), 404, 1201)
	rec := e.do(call{host: "prod.test", method: http.MethodPost})
	expectError(t, rec, 405, 1300)
}

func TestStoreFailureIs500WithoutCause(t *testing.T) { eachStore(t, testStoreFailureIs500WithoutCause) }

func testStoreFailureIs500WithoutCause(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	tok := e.session("prod.test", "alice@example.com", nil)
	e.store.Close()
	rec := e.do(call{host: "prod.test", cookie: tok})
	env := expectError(t, rec, 500, 1900)
	msg := env.Errors[0].Message
	if !strings.HasPrefix(msg, "internal error (request id ") || strings.Contains(strings.ToLower(msg), "closed") || strings.Contains(msg, "sql") {
		t.Errorf("500 message %q", msg)
	}
	if id := rec.Header().Get("X-Request-Id"); id == "" || !strings.Contains(msg, id) {
		t.Errorf("request id %q not in %q", id, msg)
	}
}

func TestRequestIDKeptOrMade(t *testing.T) { eachStore(t, testRequestIDKeptOrMade) }

func testRequestIDKeptOrMade(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	rec := e.do(call{host: "prod.test", header: http.Header{"X-Request-Id": {"abc-123"}}})
	if got := rec.Header().Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("kept id %q", got)
	}
	rec = e.do(call{host: "prod.test", header: http.Header{"X-Request-Id": {"bad id\nforged=1"}}})
	if got := rec.Header().Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \n=") {
		t.Errorf("made id %q", got)
	}
}

// A request costs the same number of SQL statements whatever the size of its
// answer: counted at the driver, for a user with 1 and with 5 memberships,
// on cold fragment caches (at most one more per kind of fragment missing)
// and warm ones.
func TestStatementsPerRequest(t *testing.T) { eachStore(t, testStatementsPerRequest) }

func testStatementsPerRequest(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	counter := e.store.(interface{ Statements() int64 })
	cost := func(user string) (cold, warm int64, n int) {
		tok := e.session("prod.test", user, nil)
		for i, c := range []*int64{&cold, &warm} {
			before := counter.Statements()
			rec := e.do(call{host: "prod.test", cookie: tok})
			*c = counter.Statements() - before
			if i == 1 {
				n = len(decode[answer](t, rec).Data)
			}
		}
		return cold, warm, n
	}
	coldFew, few, n1 := cost("carol@example.com")
	coldMany, many, n2 := cost("alice@example.com")
	if n1 != 1 || n2 != 5 {
		t.Fatalf("fixture changed: %d and %d memberships", n1, n2)
	}
	if few != many {
		t.Errorf("statements on warm caches: %d for %d memberships, %d for %d", few, n1, many, n2)
	}
	if coldFew > few+3 || coldMany > many+3 {
		t.Errorf("statements on cold fragment caches: %d and %d, more than one per kind missing", coldFew, coldMany)
	}
	t.Logf("SQL statements per request: %d on warm caches; cold: %d (%d memberships), %d (%d)", many, coldFew, n1, coldMany, n2)
}
