package server_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/server"
)

// TestRefreshAfterKeyRotation rotates the deployment's key while this
// instance caches the old one. An expired token of the old key is refused
// (401 1101), as an instance reading the new key refuses it, instead of being
// refreshed into a successor, signed with the new key, that this instance
// then refuses; and its rotating token is left as it was.
func TestRefreshAfterKeyRotation(t *testing.T) { eachStore(t, testRefreshAfterKeyRotation) }

func testRefreshAfterKeyRotation(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{CacheTTL: time.Hour})
	old := e.expired("prod.test", "alice@example.com", time.Now().Add(24*time.Hour))
	if rec := e.do(call{host: "prod.test", cookie: e.session("prod.test", "alice@example.com", nil)}); rec.Code != 200 {
		t.Fatalf("GET before the rotation: %d %s", rec.Code, rec.Body) // caches the deployment, old key included
	}
	d, err := e.store.DeploymentByHost(context.Background(), "prod.test")
	if err != nil {
		t.Fatal(err)
	}
	priv, pub, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	e.sql(`UPDATE deployment_key_pairs SET private_key_pem = ?, public_key_pem = ? WHERE deployment_id = ?`, string(priv), string(pub), d.ID)

	rec := e.do(call{host: "prod.test", cookie: old})
	if successor := newCookie(t, rec.Header()); successor != "" {
		if r := e.do(call{host: "prod.test", cookie: successor}); r.Code != 200 {
			t.Errorf("the old key's expired token was refreshed (%d), and its successor is refused: %d %s", rec.Code, r.Code, r.Body)
		}
	}
	expectError(t, rec, 401, 1101)
	var rotated int
	if err := e.db().QueryRow(`SELECT count(*) FROM rotating_tokens r JOIN sessions s ON s.id = r.session_id
		WHERE s.deployment_id = ` + strconv.FormatInt(d.ID, 10) + ` AND r.next_token_id IS NOT NULL`).Scan(&rotated); err != nil {
		t.Fatal(err)
	}
	if rotated != 0 {
		t.Errorf("%d rotating tokens rotated by a refused refresh", rotated)
	}
}
