package server_test

import (
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wachtbench/memberships/server"
)

// The database file disappears under load and comes back (an operator's
// restore): requests meanwhile get 500 envelopes promptly, the server stays
// up, and it recovers by itself, reading the restored file rather than the
// removed one it had open.
func TestDatabaseDisappearsAndReturns(t *testing.T) {
	e := newEnv(t, server.Config{HandlerTimeout: 5 * time.Second})
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
	t.Logf("statuses under load: %v", seen)
}
