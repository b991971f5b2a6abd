//go:build topology

package topology

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/store/postgres"
	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
)

// readyz is /readyz's answer with a read replica.
type readyz struct {
	Status  string `json:"status"`
	Replica *struct {
		InUse         bool     `json:"in_use"`
		Answers       bool     `json:"answers"`
		LagSeconds    *float64 `json:"lag_seconds"`
		MaxLagSeconds float64  `json:"max_lag_seconds"`
	} `json:"replica"`
}

func (c client) readyz(t *testing.T) readyz {
	t.Helper()
	status, body := c.probeBody("/readyz")
	var r readyz
	if err := json.Unmarshal([]byte(body), &r); status != 200 || err != nil || r.Replica == nil {
		t.Fatalf("/readyz = %d %s (%v), want 200 with the replica's state", status, body, err)
	}
	return r
}

// metric is the value of an unlabelled series on /metrics, "" when absent.
func (c client) metric(t *testing.T, name string) string {
	t.Helper()
	_, body := c.probeBody("/metrics")
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return v
		}
	}
	return ""
}

// TestStandbyLagBound pauses the standby's replay: a change written on the
// primary then shows through the API within the lag bound (reads move to the
// primary), /readyz and /metrics say so, and once replay resumes reads
// return to the standby.
func TestStandbyLagBound(t *testing.T) {
	const bound = 2 * time.Second
	interval := min(readCheck, bound/4)
	e := newOnStandbyLag(t, nil, bound)
	ctx := context.Background()
	tok := sessionToken(t, e.store, false)
	if a := e.get(tok); a.status != 200 || len(a.data) != 3 {
		t.Fatalf("GET = %d with %d memberships, want 200 with 3", a.status, len(a.data))
	}
	if r := e.readyz(t); !r.Replica.InUse || !r.Replica.Answers || r.Replica.LagSeconds == nil || *r.Replica.LagSeconds > bound.Seconds() || r.Replica.MaxLagSeconds != bound.Seconds() {
		t.Errorf("/readyz, standby caught up: %+v", *r.Replica)
	}
	if v := e.metric(t, "memberships_replica_in_use"); v != "1" {
		t.Errorf("memberships_replica_in_use = %q, want 1", v)
	}

	if _, err := e.standby.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.standby.Exec(context.Background(), `SELECT pg_wal_replay_resume()`) })
	// Lag builds from the pause (background WAL counts too, being
	// unreplayed), so the standby is still in use for the write.
	if !e.store.ReplicaUp() {
		t.Fatal("replay just paused: reads already left the standby")
	}
	e.exec(t, `UPDATE workspace_memberships SET deleted_at = now() WHERE id = $1`, membershipID)
	written := time.Now()
	stale := 0
	for {
		a := e.get(tok)
		if a.status != 200 {
			t.Fatalf("GET = %d (code %d)", a.status, a.code)
		}
		if len(a.data) == 2 {
			break
		}
		stale++
		if time.Since(written) > bound+interval+500*time.Millisecond {
			t.Fatalf("replay paused: the change was not visible %v after the write (bound %v)", time.Since(written), bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	visible := time.Since(written)
	if stale == 0 {
		t.Error("no stale answer after the write: it was not served by the paused standby")
	}
	t.Logf("replay paused: the change is visible %v after the write (bound %v, measured every %v; %d stale answers)", visible, bound, interval, stale)
	if e.store.ReplicaUp() {
		t.Error("the change is visible, yet reads still go to the standby")
	}
	r := e.readyz(t)
	if r.Replica.InUse || !r.Replica.Answers || r.Replica.LagSeconds == nil || *r.Replica.LagSeconds <= bound.Seconds()-interval.Seconds() {
		t.Errorf("/readyz, replay paused: %+v, want answering, not in use, lag over the bound", *r.Replica)
	}
	if v := e.metric(t, "memberships_replica_in_use"); v != "0" {
		t.Errorf("memberships_replica_in_use = %q, want 0", v)
	}
	if v := e.metric(t, "memberships_replica_lag_seconds"); v == "" || v == "NaN" {
		t.Errorf("memberships_replica_lag_seconds = %q, want the lag", v)
	}

	if _, err := e.standby.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	back := (<-replicaUntil(t, e.store, true, bound)).Sub(resumed)
	t.Logf("replay resumed: reads back on the standby %v later", back)
	before := e.store.ReplicaStatements()
	if a := e.get(tok); a.status != 200 || len(a.data) != 2 {
		t.Errorf("replay resumed: GET = %d with %d memberships, want 200 with 2", a.status, len(a.data))
	}
	if e.store.ReplicaStatements() == before {
		t.Error("replay resumed: the read did not go to the standby")
	}
	if r := e.readyz(t); !r.Replica.InUse {
		t.Errorf("/readyz, replay resumed: %+v, want in use", *r.Replica)
	}
}

// TestStandbyKeyRotation rotates the deployment's key on the primary while
// the standby, its replay paused (and no lag bound), still holds the old
// one. Keys are read where they sign: a token of the old key is refused as
// an instance without a standby refuses it, even on an instance that cached
// the old key, and no refresh hands out a token the service then refuses; a
// token of the new key works at once.
func TestStandbyKeyRotation(t *testing.T) {
	e := newOnStandbyLag(t, nil, postgres.NoReplicaLagBound)
	ctx := context.Background()
	expired := sessionToken(t, e.store, true) // of the old key
	if a := e.get(sessionToken(t, e.store, false)); a.status != 200 {
		t.Fatalf("GET = %d, want 200", a.status) // the server caches the deployment, old key included
	}

	if _, err := e.standby.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.standby.Exec(context.Background(), `SELECT pg_wal_replay_resume()`) })
	priv, pub, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	e.exec(t, `UPDATE deployment_key_pairs SET private_key_pem = $1, public_key_pem = $2
		WHERE deployment_id = (SELECT deployment_id FROM deployment_hosts WHERE host = $3)`, string(priv), string(pub), host)
	var onStandby string
	if err := e.standby.QueryRow(ctx, `SELECT k.public_key_pem FROM deployment_key_pairs k
		JOIN deployment_hosts h ON h.deployment_id = k.deployment_id WHERE h.host = $1`, host).Scan(&onStandby); err != nil {
		t.Fatal(err)
	}
	if onStandby == string(pub) {
		t.Fatal("the standby has the new key already: replay is not paused")
	}

	for _, c := range []struct {
		name string
		client
	}{{"the instance that cached the old key", e.client}, {"an instance without a cache", e.serve(t, 0)}} {
		a := c.get(expired)
		if a.session != "" {
			if b := c.get(a.session); b.status != 200 {
				t.Errorf("%s: the old key's expired token refreshed (%d), and the successor it handed out is refused: %d (code %d)",
					c.name, a.status, b.status, b.code)
			}
		}
		if a.status != 401 || a.code != 1101 {
			t.Errorf("%s: the old key's expired token after the rotation: %d (code %d), want 401 1101", c.name, a.status, a.code)
		}
	}
	fresh := sessionToken(t, e.store, false) // of the new key
	if a := e.serve(t, 0).get(fresh); a.status != 200 || len(a.data) != 3 {
		t.Errorf("a token of the new key, standby paused: %d (code %d), want 200 with 3 memberships", a.status, a.code)
	}
	refreshed := e.serve(t, 0).get(sessionToken(t, e.store, true))
	if refreshed.status != 200 || refreshed.session == "" {
		t.Fatalf("refresh of an expired token of the new key: %d (code %d), want 200 with a successor", refreshed.status, refreshed.code)
	}
	if a := e.serve(t, 0).get(refreshed.session); a.status != 200 {
		t.Errorf("its successor: %d (code %d), want 200", a.status, a.code)
	}
	if _, err := e.standby.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	pgtest.CaughtUp(t, e.primary, e.standby)
}
