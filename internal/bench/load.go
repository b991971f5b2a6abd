package bench

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// target is what the load generator calls: a server's URL and the tokens of
// the users it may pick, all for the deployment on host. With etags (one per
// token, as the browser holds them) every request revalidates and must be a
// 304; without, it must be a 200.
type target struct {
	url, host string
	tokens    []string
	etags     []string
}

// revalidating is t with every request carrying its token's ETag.
func (t target) revalidating(etags []string) target {
	t.etags = etags
	return t
}

// result is one closed-loop run: every latency, errors, and bytes received.
type result struct {
	latencies []time.Duration
	errors    int
	bytes     int64
	elapsed   time.Duration
}

func (r *result) add(o result) {
	r.latencies = append(r.latencies, o.latencies...)
	r.errors += o.errors
	r.bytes += o.bytes
	r.elapsed += o.elapsed
}

func (r *result) requests() int { return len(r.latencies) + r.errors }

func (r *result) rate() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

// quantile of the sorted latencies.
func (r *result) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	slices.Sort(r.latencies)
	return r.latencies[min(len(r.latencies)-1, int(q*float64(len(r.latencies))))]
}

// newClient keeps one connection per worker alive over loopback.
func newClient(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		DisableCompression:  true,
	}, Timeout: 30 * time.Second}
}

// drive runs concurrency workers for d, each sending one request at a time
// as a random user of t and reading the whole answer (closed loop). Anything
// but the status t expects is an error.
func drive(ctx context.Context, c *http.Client, t target, concurrency int, d time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	results := make([]result, concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	want := http.StatusOK
	if t.etags != nil {
		want = http.StatusNotModified
	}
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			r := &results[w]
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodGet, t.url, nil)
				req.Host = t.host
				i := rnd.IntN(len(t.tokens))
				req.Header.Set("Cookie", "__session="+t.tokens[i])
				if t.etags != nil {
					req.Header.Set("If-None-Match", t.etags[i])
				}
				began := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						r.errors++
					}
					continue
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if ctx.Err() != nil && err != nil {
					continue // cut off by the end of the run
				}
				if err != nil || resp.StatusCode != want {
					r.errors++
					continue
				}
				r.latencies = append(r.latencies, time.Since(began))
				r.bytes += n
			}
		}()
	}
	wg.Wait()
	var total result
	for _, r := range results {
		total.add(r)
	}
	total.elapsed = time.Since(start)
	return total
}
