package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/wachtbench/memberships/internal/demo"
)

// The SDK polls: the browser keeps the answer (Cache-Control: private,
// no-cache) and revalidates it with its ETag, so the second poll of an
// unchanged answer is a 304 in the DevTools network events, and the page
// still reads the whole answer from the browser's cache.
func TestBrowserRevalidates(t *testing.T) {
	ctx := browser(t)
	page := pageServer(t)
	origin := strings.Replace(page.URL, "127.0.0.1", demo.Host, 1)
	apiURL, token := demoAPI(t, origin)
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: "__session", Value: token, URL: apiURL, Path: "/", SameSite: network.CookieSameSiteLax,
	}); err != nil {
		t.Fatal(err)
	}

	// The status on the wire: responseReceived reports a revalidated answer
	// as the cached 200; its extra info has the 304.
	var (
		mu       sync.Mutex
		polls    = map[network.RequestID]bool{}
		statuses = map[network.RequestID]int64{}
	)
	chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if strings.HasSuffix(e.Request.URL, "/me/workspace-memberships") && e.Request.Method == "GET" {
				polls[e.RequestID] = true
			}
		case *network.EventResponseReceivedExtraInfo:
			statuses[e.RequestID] = e.StatusCode
		}
	})
	wire := func() (got []int64) {
		mu.Lock()
		defer mu.Unlock()
		for id := range polls {
			got = append(got, statuses[id])
		}
		return got
	}

	if state, errText := load(t, ctx, origin+"/?api="+apiURL); state != "loaded" {
		t.Fatalf("first poll: page state %q: %s", state, errText)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch(new URLSearchParams(location.search).get("api") + "/me/workspace-memberships",
		{credentials: "include"}).then(r => r.json()).then(b => b.data.length)`, chromedp.EvalAwaitPromise))
	if err != nil || n != 6 {
		t.Fatalf("second poll: %d memberships, %v", n, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for got := wire(); ; got = wire() {
		c200, c304 := 0, 0
		for _, s := range got {
			c200 += btoi(s == 200)
			c304 += btoi(s == 304)
		}
		if c200 == 1 && c304 == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("statuses on the wire %v, want one 200 and one 304", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
