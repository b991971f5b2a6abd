package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/seed"
	"github.com/wachtbench/memberships/internal/store"
	"github.com/wachtbench/memberships/server"
)

// BenchmarkRequest is one whole request in-process (no network): Echo, the
// contract validator, authentication (caches warm), the SQLite query,
// eligibility and encoding, for a user with 10 memberships. Profile it with
// -cpuprofile to see where a request's CPU goes.
func BenchmarkRequest(b *testing.B) { benchmarkRequest(b, 10, nil, read, nil) }

// BenchmarkTracing is BenchmarkRequest with tracing off (no provider, the
// default) and on: every request sampled, its spans (HTTP, store,
// authentication, statements) batched to an exporter that drops them, so
// the cost is the spans' own, not a collector's network.
func BenchmarkTracing(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchmarkRequest(b, 10, nil, read, nil) })
	b.Run("on", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
		defer tp.Shutdown(context.Background())
		benchmarkRequest(b, 10, nil, read, tp)
	})
}

type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

// BenchmarkRevalidate is a poll that finds nothing new: each request sends
// the answer's ETag and gets a 304, for 10, 100 and 1,000 memberships.
func BenchmarkRevalidate(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("memberships=%d", n), func(b *testing.B) { benchmarkRequest(b, n, nil, revalidated, nil) })
	}
}

// BenchmarkKept is a poll without If-None-Match whose answer is unchanged:
// the 200 last sent is sent again, for 10 and 100 memberships.
func BenchmarkKept(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("memberships=%d", n), func(b *testing.B) { benchmarkRequest(b, n, nil, kept, nil) })
	}
}

// How a benchmarked request is answered: read (no answer kept whole, as
// after a change), the 200 kept, or a 304 for the ETag it carries.
type answered int

const (
	read answered = iota
	kept
	revalidated
)

// BenchmarkValidateResponses is BenchmarkRequest with the answer checked
// against the contract (--validate-responses log; enforce costs the same on
// a valid answer) or not, for 10 and 100 memberships: the price of checking.
func BenchmarkValidateResponses(b *testing.B) {
	for _, n := range []int{10, 100} {
		for _, mode := range []server.ResponseValidation{server.ValidateOff, server.ValidateLog} {
			b.Run(fmt.Sprintf("memberships=%d/%s", n, mode), func(b *testing.B) {
				benchmarkRequest(b, n, map[domain.Mode]server.ResponseValidation{domain.ModeProduction: mode, domain.ModeStaging: mode}, read, nil)
			})
		}
	}
}

func benchmarkRequest(b *testing.B, memberships int, validate map[domain.Mode]server.ResponseValidation, how answered, tp trace.TracerProvider) {
	ctx := context.Background()
	st, err := store.Open(ctx, tempSQLite(b), store.Options{TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c := seed.Default()
	c.Users, c.MembershipsPerUser, c.RolesPerMembership = 50, memberships, 2
	if err := seed.Generate(ctx, c, func(ds *domain.Dataset, _ int) error { return st.Load(ctx, ds) }); err != nil {
		b.Fatal(err)
	}
	tok, err := auth.Mint(ctx, st, c.Host, seed.Email(c, 0), auth.TokenLifetime)
	if err != nil {
		b.Fatal(err)
	}
	cfg := server.Config{ValidateResponses: validate, CacheTTL: time.Hour, TracerProvider: tp} // warm: one statement a request
	if how == read {
		cfg.AnswerBytes = -1
	}
	h, err := server.New(cfg, st)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/me/workspace-memberships", nil)
	req.Host = c.Host
	req.Header.Set("Cookie", "__session="+tok)
	want := http.StatusOK
	for range 2 { // the first answer reads its fragments apart: not kept
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if how == revalidated {
			req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
			want = http.StatusNotModified
		}
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	// CPU time, unlike ns/op, does not count waiting for a busy machine.
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU the process has used (user and system), in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
