//go:build topology

package topology

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/store/postgres"
	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

// cacheTTL is the instances' --cache-ttl: the bound on revocation delay.
const cacheTTL = 2 * time.Second

// haproxyConfig puts two instances behind one address. The retry policy is
// what makes stopping an instance lose nothing: a GET is idempotent, so a
// request that found no listener (conn-failure) or whose connection closed
// before an answer (empty-response: a keep-alive connection the draining
// instance shut) is sent again, to the other server (redispatch).
const haproxyConfig = `global
    maxconn 1000
    stats socket %s
defaults
    mode http
    timeout connect 1s
    timeout check 2s
    timeout client 30s
    timeout server 30s
    option forwardfor
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
frontend api
    bind 127.0.0.1:%d
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /readyz
    server a %s check inter 500ms fall 2 rise 2
    server b %s check inter 500ms fall 2 rise 2
`

// instance is a `memberships serve` process.
type instance struct {
	cmd  *exec.Cmd
	addr string
	exit chan error
}

// topology is two instances on one PostgreSQL behind HAProxy.
type topology struct {
	store *postgres.Store // the same database, for minting sessions
	url   string          // and its URL
	a, b  *instance
	proxy string // http://127.0.0.1:port
	stats string // HAProxy's stats socket
}

func newTopology(t *testing.T) *topology {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is not installed, and CI=true forbids skipping (scripts/install-haproxy.sh)")
		}
		t.Skip("skipped: haproxy is not installed (scripts/install-haproxy.sh)")
	}
	url := pgtest.URL(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "memberships")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/memberships").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(data, []byte(dataset), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "load", "--db", url, data).CombinedOutput(); err != nil {
		t.Fatalf("load: %v\n%s", err, out)
	}
	st, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	top := &topology{store: st, url: url, a: serve(t, bin, url), b: serve(t, bin, url)}

	port := freePort(t)
	top.stats = filepath.Join(dir, "haproxy.sock")
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, haproxyConfig, top.stats, port, top.a.addr, top.b.addr), 0o600); err != nil {
		t.Fatal(err)
	}
	hap := exec.Command("haproxy", "-db", "-f", cfg)
	hap.Stdout, hap.Stderr = io.Discard, io.Discard
	if err := hap.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hap.Process.Signal(syscall.SIGTERM)
		hap.Wait()
	})
	top.proxy = fmt.Sprintf("http://127.0.0.1:%d", port)
	// Ready when both servers passed their health checks: two answers in a
	// row come from different instances (the proxy alternates).
	c := top.from(t, "127.0.0.2")
	tok := sessionToken(t, st, false)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c.get(tok).status == 200 && c.get(tok).status == 200 && top.bothUp() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("haproxy did not come up with both instances")
		}
	}
	return top
}

// serve starts an instance trusting the proxy's address, until the test ends.
// The load below polls one session far faster than a browser, so the
// per-session budget is off; the failure budget stays on.
func serve(t *testing.T, bin, url string) *instance {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", url, "--addr", "127.0.0.1:0", "--trusted-proxies", "127.0.0.1",
		"--cache-ttl", cacheTTL.String(), "--drain", "10s", "--limit-session", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, exit: make(chan error, 1)}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-in.exit
	})
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`serving http://(\S+?)/me`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			in.addr = m[1]
			break
		}
	}
	go func() {
		io.Copy(io.Discard, stdout)
		in.exit <- cmd.Wait()
	}()
	if in.addr == "" {
		t.Fatal("serve printed no address")
	}
	return in
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// from is a client of the proxy connecting from a loopback address of its
// own, so the proxy sees a distinct client.
func (top *topology) from(t *testing.T, ip string) client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return newClient(t, top.proxy, &http.Transport{DialContext: d.DialContext})
}

// direct is a client of one instance, bypassing the proxy.
func direct(t *testing.T, in *instance) client { return newClient(t, "http://"+in.addr, nil) }

// bothUp reports whether both instances answer on their own.
func (top *topology) bothUp() bool {
	for _, in := range []*instance{top.a, top.b} {
		resp, err := http.Get("http://" + in.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
	}
	return true
}

// retries returns the backend's retry and redispatch counts, from HAProxy's
// stats socket.
func (top *topology) retries(t *testing.T) (retried, redispatched string) {
	t.Helper()
	conn, err := net.Dial("unix", top.stats)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "show stat\n")
	out, _ := io.ReadAll(conn)
	lines := strings.Split(string(out), "\n")
	head := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	for _, line := range lines[1:] {
		row := strings.Split(line, ",")
		if len(row) != len(head) || row[0] != "instances" || row[1] != "BACKEND" {
			continue
		}
		for i, name := range head {
			switch name {
			case "wretr":
				retried = row[i]
			case "wredis":
				redispatched = row[i]
			}
		}
	}
	return retried, redispatched
}

// restrictions maps each workspace of an answer to its restriction type.
func restrictions(t *testing.T, a answer) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, raw := range a.data {
		var m struct {
			Workspace struct {
				Name string `json:"name"`
			} `json:"workspace"`
			Restriction struct {
				Type string `json:"type"`
			} `json:"eligibility_restriction"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		out[m.Workspace.Name] = m.Restriction.Type
	}
	return out
}

func TestTopologyBehindProxy(t *testing.T) {
	top := newTopology(t)

	t.Run("the IP rule sees the client's address", func(t *testing.T) {
		tok := sessionToken(t, top.store, false)
		for _, tc := range []struct {
			from   string
			header []string
			want   string
		}{
			{"127.0.0.2", nil, "none"},
			{"127.0.0.3", nil, "ip_not_allowed"},
			// A spoofed X-Forwarded-For names the allowed address; the
			// proxy adds the real one after it, and that one counts.
			{"127.0.0.3", []string{"X-Forwarded-For", "127.0.0.2"}, "ip_not_allowed"},
		} {
			c := top.from(t, tc.from)
			for range 4 { // both instances, twice
				a := c.get(tok, tc.header...)
				if got := restrictions(t, a)["Office"]; a.status != 200 || got != tc.want {
					t.Errorf("from %s %v: %d, Office %q; want 200, %q", tc.from, tc.header, a.status, got, tc.want)
				}
			}
		}
	})

	t.Run("a token refreshed on one instance works on the other", func(t *testing.T) {
		a := top.from(t, "127.0.0.2").get(sessionToken(t, top.store, true))
		if a.status != 200 || a.session == "" {
			t.Fatalf("refresh through the proxy: %d (code %d), new token %v", a.status, a.code, a.session != "")
		}
		for _, in := range []*instance{top.a, top.b} {
			if got := direct(t, in).get(a.session); got.status != 200 {
				t.Errorf("the refreshed token on %s: %d (code %d)", in.addr, got.status, got.code)
			}
		}
	})

	t.Run("reuse detected on one instance revokes on the other within --cache-ttl", func(t *testing.T) {
		old := sessionToken(t, top.store, true)
		refreshed := direct(t, top.a).get(old)
		if refreshed.status != 200 || refreshed.session == "" {
			t.Fatalf("refresh on a: %d", refreshed.status)
		}
		onB := direct(t, top.b)
		if got := onB.get(refreshed.session); got.status != 200 { // b now caches the session as active
			t.Fatalf("the new token on b: %d", got.status)
		}
		// As if the grace window (auth.RefreshGrace) had passed: presenting
		// the rotated token again is now reuse.
		if _, err := storetest.RawDB(t, top.url).Exec(
			`UPDATE rotating_tokens SET rotated_at = rotated_at - interval '1 minute' WHERE rotated_at IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if got := direct(t, top.a).get(old); got.status != 401 {
			t.Fatalf("the rotated token replayed on a: %d, want 401", got.status)
		}
		reused := time.Now()
		for onB.get(refreshed.session).status == 200 {
			if time.Since(reused) > cacheTTL+time.Second {
				t.Fatalf("b still honours the revoked session %v after the reuse (--cache-ttl %v)", time.Since(reused), cacheTTL)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("b refused the session %v after a detected the reuse (--cache-ttl %v)", time.Since(reused).Round(time.Millisecond), cacheTTL)
	})

	t.Run("SIGTERM to one instance under load loses no request", func(t *testing.T) {
		tok := sessionToken(t, top.store, false)
		var (
			stop     atomic.Bool
			ok       atomic.Int64
			mu       sync.Mutex
			failures []string
			wg       sync.WaitGroup
		)
		for i := range 8 {
			c := top.from(t, fmt.Sprintf("127.0.0.%d", 10+i))
			wg.Go(func() {
				for !stop.Load() {
					if a := c.get(tok); a.status != 200 || len(a.data) != 3 {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("status %d code %d", a.status, a.code))
						mu.Unlock()
						continue
					}
					ok.Add(1)
				}
			})
		}
		time.Sleep(500 * time.Millisecond)
		before := ok.Load()
		if err := top.a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-top.a.exit:
			top.a.exit <- err // for the cleanup
			if err != nil {
				t.Errorf("a exited with %v after SIGTERM, want 0", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("a did not exit after SIGTERM")
		}
		time.Sleep(time.Second) // b alone
		stop.Store(true)
		wg.Wait()
		retried, redispatched := top.retries(t)
		t.Logf("%d answers through the proxy, %d after SIGTERM to one instance; %d failed; HAProxy retried %s requests, redispatched %s",
			ok.Load(), ok.Load()-before, len(failures), retried, redispatched)
		if len(failures) > 0 {
			t.Errorf("%d requests lost, e.g. %s", len(failures), strings.Join(failures[:min(3, len(failures))], "; "))
		}
	})
}
