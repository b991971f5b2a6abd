package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/answer"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
	"github.com/wachtbench/memberships/internal/service"
)

// BenchmarkEncodeAnswer is the adapter and the splice on a typical answer:
// 10 memberships with 2 roles and a segment each, encodings kept after the
// first.
func BenchmarkEncodeAnswer(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	seg := []domain.Segment{{ID: 5, DeploymentID: 1, Name: "segment-1", Type: domain.SegmentWorkspace, CreatedAt: now, UpdatedAt: now}}
	entries := make([]service.Entry, 10)
	for i := range entries {
		entries[i] = service.Entry{Restriction: eligibility.MFARequired, Membership: &domain.Membership{
			ID: int64(1000 + i), UserID: 7, OrganizationID: 20, PublicMetadata: json.RawMessage(`{"seed":true}`),
			CreatedAt: now, UpdatedAt: now,
			Roles: []*domain.Role{{ID: 30, Name: "Admin", Permissions: []string{"workspace:admin"}, CreatedAt: now, UpdatedAt: now},
				{ID: 31, Name: "Role 1", Permissions: []string{"workspace:read"}, CreatedAt: now, UpdatedAt: now}},
			Workspace: &domain.Workspace{ID: int64(2000 + i), Name: fmt.Sprintf("Workspace %d", i), MemberCount: 50,
				PublicMetadata: json.RawMessage(`{"seed":true,"index":3}`), WhitelistedIPs: []string{"10.0.0.0/8"},
				CreatedAt: now, UpdatedAt: now, Segments: seg},
			Organization: &domain.Organization{ID: 20, Name: "Organization 2", MemberCount: 500,
				PublicMetadata: json.RawMessage(`{"seed":true,"index":2}`), CreatedAt: now, UpdatedAt: now, Segments: seg},
		}}
		m := entries[i].Membership
		m.Workspace.KeepEncoding() // as the store's values do
		m.Organization.KeepEncoding()
		for _, r := range m.Roles {
			r.KeepEncoding()
		}
	}
	st := &requestState{caller: domain.Caller{UserID: 7, Session: domain.SessionSummary{ID: 9, CreatedAt: now, UpdatedAt: now}}}
	ctx := context.WithValue(context.Background(), stateKey{}, st)
	a := &adapter{svc: service.New(fixedStore(entries)), enc: answer.New()}
	for b.Loop() {
		resp, err := a.GetUserWorkspaceMemberships(ctx, gen.GetUserWorkspaceMembershipsRequestObject{})
		if err != nil {
			b.Fatal(err)
		}
		if err := resp.VisitGetUserWorkspaceMembershipsResponse(httptest.NewRecorder()); err != nil {
			b.Fatal(err)
		}
	}
}

// fixedStore answers every query with the same memberships.
type fixedStore []service.Entry

func (f fixedStore) Memberships(context.Context, domain.MembershipQuery) ([]domain.Membership, error) {
	out := make([]domain.Membership, len(f))
	for i := range f {
		out[i] = *f[i].Membership
	}
	return out, nil
}

func (fixedStore) Changes(context.Context, int64, int) ([]domain.Change, error) { return nil, nil }
