package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/server"
)

// Every 200 carries a strong ETag of its bytes; If-None-Match naming it gets
// 304 with no body, and an ETag never answers for another session, filter or
// client address whose answer differs.
func TestConditionalRequests(t *testing.T) { eachStore(t, testConditionalRequests) }

func testConditionalRequests(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	alice := e.session("prod.test", "alice@example.com", nil)
	get := func(c call, inm string) (int, string, string) {
		t.Helper()
		c.host = "prod.test"
		if inm != "" {
			c.header = http.Header{"If-None-Match": {inm}}
		}
		rec := e.do(c)
		if cc := rec.Header().Get("Cache-Control"); cc != "private, no-cache" {
			t.Errorf("status %d: Cache-Control %q", rec.Code, cc)
		}
		return rec.Code, rec.Header().Get("ETag"), rec.Body.String()
	}
	base := call{cookie: alice, remote: "192.0.2.1:5555"}
	code, etag, body := get(base, "")
	if code != 200 || len(etag) < 3 || etag[0] != '"' {
		t.Fatalf("first answer %d, ETag %q", code, etag)
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		if code, got, body := get(base, inm); code != 304 || got != etag || body != "" {
			t.Errorf("If-None-Match %s: %d, ETag %q, body %q; want 304, %q, empty", inm, code, got, body, etag)
		}
	}
	if code, _, _ := get(base, `"stale"`); code != 200 {
		t.Errorf("a stale ETag: %d, want 200", code)
	}

	// Whatever else the answer depends on: the ETag matches only the same bytes.
	other := base
	other.cookie = e.session("prod.test", "alice@example.com", nil) // another session of the same user
	filtered := base
	filtered.path = "/me/workspace-memberships?org_id=130"
	elsewhere := base
	elsewhere.remote = "198.51.100.7:5555"
	for name, c := range map[string]call{"another session": other, "a filter": filtered, "another address": elsewhere} {
		_, etag2, body2 := get(c, "")
		if (etag2 == etag) != (body2 == body) {
			t.Errorf("%s: ETag %q for the first's %q, bodies equal: %v", name, etag2, etag, body2 == body)
		}
		if code, _, _ := get(c, etag); (code == 304) != (etag2 == etag) {
			t.Errorf("%s: If-None-Match with the first ETag: %d", name, code)
		}
		if name != "another address" && etag2 == etag {
			t.Errorf("%s: the same ETag, but the answer differs", name)
		}
	}
}

// A poll without If-None-Match whose answer is unchanged gets the 200 last
// sent, byte for byte, without a read; after a write to what it shows the
// next poll reads it again, and shows the write.
func TestUnchangedAnswerSentAsKept(t *testing.T) { eachStore(t, testUnchangedAnswerSentAsKept) }

func testUnchangedAnswerSentAsKept(t *testing.T, db string) {
	e := newEnv(t, db, server.Config{})
	c := call{host: "prod.test", cookie: e.session("prod.test", "alice@example.com", nil), remote: "192.0.2.1:5555"}
	kept := func() string {
		for _, l := range strings.Split(e.get("/metrics").Body.String(), "\n") {
			if v, ok := strings.CutPrefix(l, `memberships_answers_total{source="kept"} `); ok {
				return v
			}
		}
		return "0"
	}
	e.do(c) // the first answer reads its fragments by later statements: not kept
	read := e.do(c)
	if k := kept(); k != "0" {
		t.Fatalf("%s answers kept before one could be", k)
	}
	again := e.do(c)
	if k := kept(); k != "1" || again.Code != 200 || again.Body.String() != read.Body.String() || again.Header().Get("ETag") != read.Header().Get("ETag") {
		t.Fatalf("the same answer again: %d, %s kept, same body %v", again.Code, k, again.Body.String() == read.Body.String())
	}
	var answer gen.WorkspaceMembershipsResponse
	if err := json.Unmarshal(read.Body.Bytes(), &answer); err != nil || len(answer.Data) == 0 {
		t.Fatalf("%v: %s", err, read.Body)
	}
	if _, err := e.db().Exec(`UPDATE workspaces SET name = 'Renamed' WHERE id = ` + answer.Data[0].Workspace.Id); err != nil {
		t.Fatal(err)
	}
	after := e.do(c)
	if k := kept(); k != "1" || !strings.Contains(after.Body.String(), `"name":"Renamed"`) || after.Header().Get("ETag") == read.Header().Get("ETag") {
		t.Fatalf("after a rename: %s kept, ETag %s, %s", k, after.Header().Get("ETag"), after.Body)
	}
}

// Polls that share reads of the change feed: once a write that changes the
// answer has committed, no poll begun after it gets a 304 for the answer
// before it, on either of two instances, however the reads are shared.
func TestConcurrentPollsSeeAWrite(t *testing.T) { eachStore(t, testConcurrentPollsSeeAWrite) }

func testConcurrentPollsSeeAWrite(t *testing.T, db string) {
	a := newEnv(t, db, server.Config{})
	var instances []*env
	for range 2 {
		h, err := server.New(server.Config{}, slowFeed{a.store})
		if err != nil {
			t.Fatal(err)
		}
		instances = append(instances, a.with(h))
	}
	alice := a.session("prod.test", "alice@example.com", nil)
	base := call{host: "prod.test", cookie: alice, remote: "192.0.2.1:5555"}
	var answer gen.WorkspaceMembershipsResponse
	first := instances[0].do(base)
	if err := json.Unmarshal(first.Body.Bytes(), &answer); err != nil || first.Code != 200 || len(answer.Data) == 0 {
		t.Fatalf("first answer %d %s", first.Code, first.Body)
	}
	etag := first.Header().Get("ETag")
	for _, e := range instances { // each instance keeps the answer
		if rec := e.do(base); rec.Header().Get("ETag") != etag {
			t.Fatalf("instances disagree: %q, %q", rec.Header().Get("ETag"), etag)
		}
	}

	var written, stop atomic.Bool
	var before, after atomic.Int64 // 304s before the write, polls begun after it
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := base
			if i%2 == 0 { // else a plain poll, answered as kept until the write
				c.header = http.Header{"If-None-Match": {etag}}
			}
			for n := 0; !stop.Load(); n++ {
				late := written.Load()
				rec := instances[(i+n)%2].do(c)
				switch {
				case late && (rec.Code != 200 || !strings.Contains(rec.Body.String(), "(renamed)")):
					t.Errorf("a poll begun after the write: %d, want 200 with the new name", rec.Code)
					return
				case late:
					after.Add(1)
				case rec.Code == 304:
					before.Add(1)
				}
			}
		}()
	}
	waitFor(t, func() bool { return before.Load() >= 50 })
	if _, err := a.db().Exec(`UPDATE workspaces SET name = name || ' (renamed)' WHERE id = ` + answer.Data[0].Workspace.Id); err != nil {
		t.Fatal(err)
	}
	written.Store(true)
	waitFor(t, func() bool { return after.Load() >= 200 })
	stop.Store(true)
	wg.Wait()
}

// slowFeed returns the change feed's rows a while after reading them, so
// that a write often commits while a read begun before it is still under
// way: the read a poll begun after the write must not trust.
type slowFeed struct{ domain.Store }

func (s slowFeed) Changes(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	rows, err := s.Store.Changes(ctx, since, limit)
	time.Sleep(time.Millisecond)
	return rows, err
}
