package server_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/store/postgres/pgtest"
	"github.com/wachtbench/memberships/server"
)

// The database file disappears under load and comes back (an operator's
// restore): requests meanwhile get 500 envelopes promptly, the server stays
// up, and it recovers by itself, reading the restored file rather than the
// removed one it had open.
func TestDatabaseDisappearsAndReturns(t *testing.T) {
	e := newEnv(t, tempSQLite(t), server.Config{HandlerTimeout: 5 * time.Second})
	tok := e.session("prod.test", "alice@example.com", nil)
	get := func() int { return e.do(call{host: "prod.test", cookie: tok}).Code }
	if code := get(); code != 200 {
		t.Fatalf("before: %d", code)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]int{}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				code := get()
				mu.Lock()
				seen[code]++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	if err := os.Rename(e.path, e.path+".away"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	rec := e.do(call{host: "prod.test", cookie: tok})
	expectError(t, rec, 500, 1900)
	if live, ready := e.probe("/healthz"), e.probe("/readyz"); live != 200 || ready != 503 {
		t.Errorf("during the outage: /healthz %d (want 200), /readyz %d (want 503)", live, ready)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a failing request took %v", d)
	}
	if err := os.Rename(e.path+".away", e.path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	for code := range seen {
		if code != 200 && code != 500 {
			t.Errorf("status %d during the outage: %v", code, seen)
		}
	}
	if seen[500] == 0 || seen[200] == 0 {
		t.Errorf("statuses %v: the outage was not seen", seen)
	}
	if code := get(); code != 200 {
		t.Fatalf("after the file returned: %d", code)
	}
	if ready := e.probe("/readyz"); ready != 200 {
		t.Errorf("after the outage: /readyz %d", ready)
	}
	t.Logf("statuses under load: %v", seen)
}

// proxy is a loopback TCP relay in front of PostgreSQL, so a test can make
// the real server unreachable (refusing connections, as when it is stopped)
// or unresponsive (accepting, then silent), and bring it back.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	silent bool
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start() {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			silent := p.silent
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			if silent {
				continue // accept, never answer
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// stop closes the listener and every relayed connection: PostgreSQL is gone.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// The PostgreSQL server stops, then hangs, then returns: requests get 500
// envelopes within the handler's deadline, and the server recovers by itself.
func TestPostgresOutageAndRecovery(t *testing.T) {
	base := pgtest.URL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.addr
	e := newEnv(t, u.String(), server.Config{HandlerTimeout: time.Second})
	tok := e.session("prod.test", "alice@example.com", nil)
	get := func() (int, time.Duration) {
		start := time.Now()
		rec := e.do(call{host: "prod.test", cookie: tok})
		return rec.Code, time.Since(start)
	}
	expect := func(phase string, want int) {
		t.Helper()
		code, took := get()
		if code != want {
			t.Fatalf("%s: status %d, want %d", phase, code, want)
		}
		if took > 3*time.Second {
			t.Errorf("%s: took %v, beyond the 1 s deadline", phase, took)
		}
	}
	expect("up", 200)

	px.stop() // refused, as when PostgreSQL is stopped
	expect("stopped", 500)
	if live, ready := e.probe("/healthz"), e.probe("/readyz"); live != 200 || ready != 503 {
		t.Errorf("PostgreSQL stopped: /healthz %d (want 200), /readyz %d (want 503)", live, ready)
	}
	px.start()
	waitFor(t, func() bool { c, _ := get(); return c == 200 })

	px.mu.Lock()
	px.silent = true
	px.mu.Unlock()
	px.stop()
	px.start() // accepts, then never answers
	expect("hanging", 500)
	px.mu.Lock()
	px.silent = false
	px.mu.Unlock()
	px.stop()
	px.start()
	waitFor(t, func() bool { c, _ := get(); return c == 200 })
}

// probe answers an operational endpoint's status.
func (e *env) probe(path string) int {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("the server did not recover")
}
