package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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
func BenchmarkRequest(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, tempSQLite(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c := seed.Default()
	c.Users, c.MembershipsPerUser, c.RolesPerMembership = 50, 10, 2
	if err := seed.Generate(ctx, c, func(ds *domain.Dataset, _ int) error { return st.Load(ctx, ds) }); err != nil {
		b.Fatal(err)
	}
	tok, err := auth.Mint(ctx, st, c.Host, seed.Email(c, 0), auth.TokenLifetime)
	if err != nil {
		b.Fatal(err)
	}
	h, err := server.New(server.Config{CacheTTL: time.Hour}, st) // warm: one statement a request
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/me/workspace-memberships", nil)
	req.Host = c.Host
	req.Header.Set("Cookie", "__session="+tok)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
