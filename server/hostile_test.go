package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wachtbench/memberships/server"
)

// TestHostileInput: every attack gets a clean 4xx envelope (the harness checks
// each against the contract), nothing panics, and nothing is written.
func TestHostileInput(t *testing.T) {
	e := newEnv(t, tempSQLite(t), server.Config{}) // writes() reads SQLite
	good := e.session("prod.test", "alice@example.com", nil)
	now := time.Now()
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var sess, rot string
	{
		var c jwt.MapClaims
		jwt.NewParser().ParseUnverified(good, &c)
		sess, rot = c["sess"].(string), c["rotating_token"].(string)
	}
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": "https://prod.test", "sess": sess, "rotating_token": rot,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	// withHeader signs claims with the attacker's key and extra header fields.
	withHeader := func(extra map[string]any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, base())
		for k, v := range extra {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(attacker)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	jwk := map[string]any{"kty": "EC", "crv": "P-256",
		"x": b64(attacker.PublicKey.X), "y": b64(attacker.PublicKey.Y)}
	missing := func(claim string) string {
		c := base()
		delete(c, claim)
		return e.sign("", jwt.SigningMethodES256, e.key("prod.test"), c)
	}
	stagingTok := e.session("staging.test", "dev@example.com", nil)
	q := "/me/workspace-memberships?"

	before := e.writes()
	for _, tc := range []struct {
		name, path, cookieHeader string
		header                   http.Header
		body                     string
		status, code             int
	}{
		{"jwk in header", q, "__session=" + withHeader(map[string]any{"jwk": jwk}), nil, "", 401, 1101},
		{"jku in header", q, "__session=" + withHeader(map[string]any{"jku": "https://evil.test/keys"}), nil, "", 401, 1101},
		{"x5u in header", q, "__session=" + withHeader(map[string]any{"x5u": "https://evil.test/cert"}), nil, "", 401, 1101},
		{"kid path trick", q, "__session=" + withHeader(map[string]any{"kid": "../../../dev/null"}), nil, "", 401, 1101},
		{"alg none, signature stripped", q, "__session=" + noneToken(good), nil, "", 401, 1101},
		{"HS256 keyed with the public key", q, "__session=" + e.sign("", jwt.SigningMethodHS256, e.publicPEM("prod.test"), base()), nil, "", 401, 1101},
		{"missing sess", q, "__session=" + missing("sess"), nil, "", 401, 1101},
		{"missing iss", q, "__session=" + missing("iss"), nil, "", 401, 1101},
		{"missing iat", q, "__session=" + missing("iat"), nil, "", 401, 1101},
		{"missing rotating_token", q, "__session=" + missing("rotating_token"), nil, "", 401, 1101},
		{"300 KB cookie", q, "__session=" + strings.Repeat("A", 300<<10), nil, "", 401, 1101},
		{"300 KB of other cookies", q, "junk=" + strings.Repeat("A", 300<<10), nil, "", 401, 1100},
		{"two different __session cookies", q, "__session=" + good + "; __session=" + stagingTok, nil, "", 401, 1101},
		{"empty __session", q, "__session=", nil, "", 401, 1100},
		{"staging token on production", q, "__session=" + stagingTok, nil, "", 401, 1101},
		{"staging token in the query of production", q + "__dev_session__=" + stagingTok, "", nil, "", 401, 1100},
		{"org_id negative", q + "org_id=-1", "__session=" + good, nil, "", 400, 1000},
		{"org_id huge", q + "org_id=" + strings.Repeat("9", 400), "__session=" + good, nil, "", 400, 1000},
		{"org_id SQL", q + "org_id=1%27%3B%20DROP%20TABLE%20users%3B--", "__session=" + good, nil, "", 400, 1000},
		{"org_id Arabic-Indic digits", q + "org_id=%D9%A1%D9%A2", "__session=" + good, nil, "", 400, 1000},
		{"org_id repeated", q + "org_id=130&org_id=160", "__session=" + good, nil, "", 400, 1000},
		{"org_id NUL", q + "org_id=1%00", "__session=" + good, nil, "", 400, 1000},
		{"body on GET", q, "__session=" + good, nil, "x=1", 400, 1000},
		{"unknown host with a good token", q, "__session=" + good, http.Header{"Host": {"evil.test"}}, "", 404, 1200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := call{host: "prod.test", path: tc.path, header: http.Header{}}
			if h := tc.header.Get("Host"); h != "" {
				c.host = h
			}
			if tc.cookieHeader != "" {
				c.header.Set("Cookie", tc.cookieHeader)
			}
			c.body = tc.body
			expectError(t, e.do(c), tc.status, tc.code)
		})
	}
	if after := e.writes(); after != before {
		t.Errorf("hostile requests wrote to the database:\n before %s\n after  %s", before, after)
	}
	// Two session cookies, even equal, mean one was set for a parent
	// domain (another deployment's, perhaps): refused, saying so.
	rec := e.do(call{host: "prod.test", header: http.Header{"Cookie": {"__session=" + good + "; __session=" + good}}})
	expectError(t, rec, 401, 1101)
	if !strings.Contains(rec.Body.String(), "More than one __session cookie") {
		t.Errorf("two session cookies: %s", rec.Body)
	}
}

// writes summarises every row a request could write.
func (e *env) writes() string {
	var s string
	err := e.db().QueryRow(`SELECT
		(SELECT count(*) || '/' || coalesce(sum(updated_at), 0) || '/' || coalesce(sum(deleted_at), 0) FROM sessions) || ' ' ||
		(SELECT count(*) || '/' || coalesce(sum(rotated_at), 0) FROM rotating_tokens) || ' ' ||
		(SELECT count(*) || '/' || coalesce(sum(signed_out_at), 0) FROM sign_ins)`).Scan(&s)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) publicPEM(host string) []byte {
	d, err := e.store.DeploymentByHost(context.Background(), host)
	if err != nil {
		e.t.Fatal(err)
	}
	return d.PublicKeyPEM
}

// noneToken re-labels a token alg "none" and drops its signature.
func noneToken(tok string) string {
	parts := strings.Split(tok, ".")
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "."
}

func b64(n *big.Int) string {
	b := make([]byte, 32)
	return base64.RawURLEncoding.EncodeToString(n.FillBytes(b))
}
