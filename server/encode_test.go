package server

import (
	"bytes"
	"encoding/json"
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
		{Restriction: eligibility.IPAndMFARequired, Membership: domain.Membership{
			ID: math.MaxInt64, UserID: 7, OrganizationID: 20,
			PublicMetadata: json.RawMessage(`{"z":1, "a":[1,2.5,"x",1e3,12345678901234567890],"b":{"c":null},"h":"<b>&amp;</b> \u2028   \/"}`),
			CreatedAt:      at, UpdatedAt: at.Add(time.Hour),
			Roles: []domain.Role{{ID: 30, Name: "Admin <&> \u2028 tab\t nl\n \x01 bad\xff ünï", Permissions: []string{"workspace:admin"}, CreatedAt: at, UpdatedAt: at},
				{ID: 31, Name: "", Permissions: []string{}, CreatedAt: at, UpdatedAt: at}},
			Workspace: domain.Workspace{ID: 2000, Name: "W\\1", ImageURL: "https://x/y.png?a=1&b=2", Description: "日本語",
				MemberCount: 50, PublicMetadata: json.RawMessage(`{"seed":true,"html":"<script>&</script> "}`), Enforce2FA: true, EnableIPRestriction: true,
				WhitelistedIPs: []string{"10.0.0.0/8", "::1"}, CreatedAt: at, UpdatedAt: at, Segments: seg},
			Organization: domain.Organization{ID: 20, Name: "O", MemberCount: 500, PublicMetadata: nil, EnforceMFA: true,
				WhitelistedIPs: []string{}, AutoAssignedWorkspaceID: &auto, CreatedAt: at, UpdatedAt: at, Segments: []domain.Segment{}},
		}},
		{Restriction: eligibility.None, Membership: domain.Membership{ID: 1, PublicMetadata: json.RawMessage(`{}`),
			Roles: []domain.Role{}, Workspace: domain.Workspace{WhitelistedIPs: []string{}, Segments: []domain.Segment{}},
			Organization: domain.Organization{WhitelistedIPs: []string{}, Segments: []domain.Segment{}}}},
	}
	session := domain.SessionSummary{ID: 9, CreatedAt: at, UpdatedAt: at}
	oracle := make([]gen.WorkspaceMembership, len(entries))
	for i := range entries {
		oracle[i] = membership(&entries[i]) // before the store's re-encoding of metadata
		if err := fragment.Encode(&entries[i].Membership); err != nil {
			t.Fatal(err)
		}
	}
	for _, es := range [][]service.Entry{entries, nil} {
		got := *encodeAnswer(es, session)
		var want bytes.Buffer
		data := oracle[:len(es)]
		if err := json.NewEncoder(&want).Encode(gen.WorkspaceMembershipsResponse{Status: 200, Data: data,
			Session: gen.SessionSummary{Id: id(session.ID), CreatedAt: session.CreatedAt.UTC(), UpdatedAt: session.UpdatedAt.UTC()}}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("encoder and generated types differ:\n got %s\nwant %s", got, want.Bytes())
		}
	}
}

// The oracle: an entry as the generated types.
func membership(e *service.Entry) gen.WorkspaceMembership {
	w, o := &e.Workspace, &e.Organization
	roles := make([]gen.WorkspaceRole, len(e.Roles))
	for i, r := range e.Roles {
		roles[i] = gen.WorkspaceRole{
			Id: id(r.ID), Name: r.Name, Permissions: nonNil(r.Permissions),
			CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
		}
	}
	auto := ""
	if o.AutoAssignedWorkspaceID != nil {
		auto = id(*o.AutoAssignedWorkspaceID)
	}
	return gen.WorkspaceMembership{
		Id:             id(e.ID),
		OrganizationId: id(e.OrganizationID),
		UserId:         id(e.UserID),
		PublicMetadata: metadata(e.PublicMetadata),
		CreatedAt:      utc(e.CreatedAt),
		UpdatedAt:      utc(e.UpdatedAt),
		Roles:          roles,
		Workspace: gen.Workspace{
			Id: id(w.ID), Name: w.Name, ImageUrl: w.ImageURL, Description: w.Description,
			MemberCount: w.MemberCount, PublicMetadata: metadata(w.PublicMetadata),
			PrivateMetadata: gen.PrivateMetadata{}, Enforce2fa: w.Enforce2FA,
			EnableIpRestriction: w.EnableIPRestriction, WhitelistedIps: nonNil(w.WhitelistedIPs),
			CreatedAt: utc(w.CreatedAt), UpdatedAt: utc(w.UpdatedAt), Segments: segments(w.Segments),
		},
		Organization: gen.Organization{
			Id: id(o.ID), Name: o.Name, ImageUrl: o.ImageURL, Description: o.Description,
			MemberCount: o.MemberCount, PublicMetadata: metadata(o.PublicMetadata),
			PrivateMetadata: gen.PrivateMetadata{}, EnforceMfa: o.EnforceMFA,
			EnableIpRestriction: o.EnableIPRestriction, WhitelistedIps: nonNil(o.WhitelistedIPs),
			AutoAssignedWorkspaceId: auto,
			CreatedAt:               utc(o.CreatedAt), UpdatedAt: utc(o.UpdatedAt), Segments: segments(o.Segments),
		},
		EligibilityRestriction: gen.EligibilityRestriction{
			Type:    gen.EligibilityRestrictionType(e.Restriction),
			Message: e.Restriction.Message(),
		},
	}
}

func segments(ss []domain.Segment) []gen.Segment {
	out := make([]gen.Segment, len(ss))
	for i, s := range ss {
		out[i] = gen.Segment{
			Id: id(s.ID), DeploymentId: id(s.DeploymentID), Name: s.Name,
			Type:      gen.SegmentType(s.Type),
			CreatedAt: utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt),
		}
	}
	return out
}

// metadata decodes a stored JSON object; anything else (which the store's
// constraints should never let in) is served as {} rather than failing.
func metadata(raw json.RawMessage) gen.Metadata {
	m := gen.Metadata{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	return m
}

func id(v int64) string { return strconv.FormatInt(v, 10) }

func utc(t time.Time) time.Time { return t.UTC() }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
