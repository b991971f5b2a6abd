package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
	"github.com/wachtbench/memberships/internal/service"
	"github.com/wachtbench/memberships/internal/store/fragment"
)

// TestSpliceMatchesGeneratedTypes holds the hand-written splice of stored
// fragments to the generated types: the same answer built as gen structs
// and encoded whole by encoding/json (the oracle below) must give the same
// bytes, for awkward strings and metadata too (<, >, &, U+2028, key order,
// numbers).
func TestSpliceMatchesGeneratedTypes(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.FixedZone("X", 3600))
	auto := int64(77)
	seg := []domain.Segment{{ID: 5, DeploymentID: 1, Name: "Seg \"quoted\"", Type: domain.SegmentWorkspace, CreatedAt: at, UpdatedAt: at}}
	entries := []service.Entry{
		{Restriction: eligibility.IPAndMFARequired, Membership: &domain.Membership{
			ID: math.MaxInt64, UserID: 7, OrganizationID: 20,
			PublicMetadata: json.RawMessage(`{"z":1, "a":[1,2.5,"x",1e3,12345678901234567890],"b":{"c":null},"h":"<b>&amp;</b> \u2028   \/"}`),
			CreatedAt:      at, UpdatedAt: at.Add(time.Hour),
			Roles: []*domain.Role{{ID: 30, Name: "Admin <&> \u2028 tab\t nl\n \x01 bad\xff ünï", Permissions: []string{"workspace:admin"}, CreatedAt: at, UpdatedAt: at},
				{ID: 31, Name: "", Permissions: []string{}, CreatedAt: at, UpdatedAt: at}},
			Workspace: &domain.Workspace{ID: 2000, Name: "W\\1", ImageURL: "https://x/y.png?a=1&b=2", Description: "日本語",
				MemberCount: 50, PublicMetadata: json.RawMessage(`{"seed":true,"html":"<script>&</script> "}`), Enforce2FA: true, EnableIPRestriction: true,
				WhitelistedIPs: []string{"10.0.0.0/8", "::1"}, CreatedAt: at, UpdatedAt: at, Segments: seg},
			Organization: &domain.Organization{ID: 20, Name: "O", MemberCount: 500, PublicMetadata: nil, EnforceMFA: true,
				WhitelistedIPs: []string{}, AutoAssignedWorkspaceID: &auto, CreatedAt: at, UpdatedAt: at, Segments: []domain.Segment{}},
		}},
		{Restriction: eligibility.None, Membership: &domain.Membership{ID: 1, PublicMetadata: json.RawMessage(`{}`),
			Roles: []*domain.Role{}, Workspace: &domain.Workspace{WhitelistedIPs: []string{}, Segments: []domain.Segment{}},
			Organization: &domain.Organization{WhitelistedIPs: []string{}, Segments: []domain.Segment{}}}},
	}
	session := domain.SessionSummary{ID: 9, CreatedAt: at, UpdatedAt: at}
	oracle := make([]gen.WorkspaceMembership, len(entries))
	for i := range entries {
		oracle[i] = membership(&entries[i]) // before the store's re-encoding of metadata
		if err := fragment.Encode(entries[i].Membership); err != nil {
			t.Fatal(err)
		}
	}
	for _, es := range [][]service.Entry{entries, nil} {
		got := *encodeAnswer(es, session)
		var want bytes.Buffer
		data := oracle[:len(es)]
		if err := json.NewEncoder(&want).Encode(gen.WorkspaceMembershipsResponse{Status: 200, Data: data,
			Session: gen.SessionSummary{Id: strconv.FormatInt(session.ID, 10), CreatedAt: session.CreatedAt.UTC(), UpdatedAt: session.UpdatedAt.UTC()}}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("encoder and generated types differ:\n got %s\nwant %s", got, want.Bytes())
		}
	}
}

// The oracle: an entry as the generated types, encoded whole by
// encoding/json; the conversions of stored rows to generated types are the
// fragment package's.
func membership(e *service.Entry) gen.WorkspaceMembership {
	roles := make([]gen.WorkspaceRole, len(e.Roles))
	for i := range e.Roles {
		roles[i] = fragment.Role(e.Roles[i])
	}
	w, err1 := fragment.Workspace(e.Workspace)
	o, err2 := fragment.Organization(e.Organization)
	meta := gen.Metadata{}
	err3 := json.Unmarshal(e.PublicMetadata, &meta)
	if err := errors.Join(err1, err2, err3); err != nil {
		panic(err)
	}
	return gen.WorkspaceMembership{
		Id:             strconv.FormatInt(e.ID, 10),
		OrganizationId: strconv.FormatInt(e.OrganizationID, 10),
		UserId:         strconv.FormatInt(e.UserID, 10),
		PublicMetadata: meta,
		CreatedAt:      e.CreatedAt.UTC(),
		UpdatedAt:      e.UpdatedAt.UTC(),
		Roles:          roles,
		Workspace:      w,
		Organization:   o,
		EligibilityRestriction: gen.EligibilityRestriction{
			Type:    gen.EligibilityRestrictionType(e.Restriction),
			Message: e.Restriction.Message(),
		},
	}
}
