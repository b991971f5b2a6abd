package answer

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
	"github.com/wachtbench/memberships/internal/service"
)

// TestSpliceMatchesGeneratedTypes holds the hand-written splice of
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
	// Metadata repeated from one membership to the next, and then not: the
	// encoder reuses the previous membership's encoding only for its text.
	for _, meta := range []string{`{"tier":"gold"}`, `{"tier":"gold"}`, `{"tier":"silver"}`, `{"tier":"gold"}`} {
		m := *entries[1].Membership
		m.PublicMetadata = json.RawMessage(meta)
		e := entries[1]
		e.Membership = &m
		entries = append(entries, e)
	}
	session := domain.SessionSummary{ID: 9, CreatedAt: at, UpdatedAt: at}
	oracle := make([]gen.WorkspaceMembership, len(entries))
	for i := range entries {
		oracle[i] = membership(&entries[i])
	}
	for _, e := range entries {
		e.Workspace.KeepEncoding()
		e.Organization.KeepEncoding()
		for _, r := range e.Roles {
			r.KeepEncoding()
		}
	}
	enc := New()
	for _, es := range [][]service.Entry{entries, nil, entries} { // the last from kept encodings
		buf, err := enc.Encode(es, session)
		if err != nil {
			t.Fatal(err)
		}
		got := *buf
		var want bytes.Buffer
		data := oracle[:len(es)]
		if err := json.NewEncoder(&want).Encode(gen.WorkspaceMembershipsResponse{Status: 200, Data: data,
			Session: gen.SessionSummary{Id: strconv.FormatInt(session.ID, 10), CreatedAt: session.CreatedAt.UTC(), UpdatedAt: session.UpdatedAt.UTC()}}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			i := 0
			for i < len(got) && i < want.Len() && got[i] == want.Bytes()[i] {
				i++
			}
			t.Errorf("encoder and generated types differ at %d:\n got %s\nwant %s", i, got[max(i-200, 0):], want.Bytes()[max(i-200, 0):])
		}
		Release(buf)
	}
}

// An encoding is kept on the value the store shares, encoded once; a copy
// of it (changed, as a new version would be) is encoded anew and leaves the
// value's encoding alone.
func TestEncodingFollowsTheValue(t *testing.T) {
	enc := New()
	role, ws, org := &domain.Role{ID: 3, Name: "kept"}, &domain.Workspace{ID: 2, Name: "kept"}, &domain.Organization{ID: 4, Name: "kept"}
	for _, f := range []*domain.Fragment{&role.Fragment, &ws.Fragment, &org.Fragment} {
		f.KeepEncoding()
	}
	encode := func(r *domain.Role, w *domain.Workspace, o *domain.Organization, name string) {
		t.Helper()
		buf, err := enc.Encode([]service.Entry{{Membership: &domain.Membership{ID: 1, Roles: []*domain.Role{r}, Workspace: w, Organization: o}}}, domain.SessionSummary{})
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(*buf, []byte(`"name":"`+name+`"`)); n != 3 {
			t.Errorf("%d fragments show %q, want 3: %s", n, name, *buf)
		}
		Release(buf)
	}
	encode(role, ws, org, "kept")
	r2, w2, o2 := *role, *ws, *org
	r2.Name, w2.Name, o2.Name = "copy", "copy", "copy"
	encode(&r2, &w2, &o2, "copy")
	encode(role, ws, org, "kept")
	if hits, misses := enc.Stats(); hits != 3 || misses != 6 {
		t.Errorf("%d kept and %d made, want 3 kept (the second answer of the values) and 6 made", hits, misses)
	}
}

// Metadata another writer stored that the contract cannot show (not an
// object) fails the answer, naming the membership.
func TestMetadataNotAnObject(t *testing.T) {
	for _, raw := range []string{`[1]`, `"x"`, `null`, `{"a":`} {
		_, err := New().Encode([]service.Entry{{Membership: &domain.Membership{ID: 5, PublicMetadata: json.RawMessage(raw),
			Workspace: &domain.Workspace{}, Organization: &domain.Organization{}}}}, domain.SessionSummary{})
		if err == nil || !strings.Contains(err.Error(), "membership 5 public_metadata") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// The oracle: an entry as the generated types, encoded whole by
// encoding/json.
func membership(e *service.Entry) gen.WorkspaceMembership {
	roles := make([]gen.WorkspaceRole, len(e.Roles))
	for i := range e.Roles {
		roles[i] = Role(e.Roles[i])
	}
	w, err1 := Workspace(e.Workspace)
	o, err2 := Organization(e.Organization)
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

// A buffer is sized from its own answer: one huge fragment (a description
// of megabytes written through plain SQL) does not make the next answers'
// buffers huge.
func TestBufferSizedByItsAnswer(t *testing.T) {
	enc := New()
	huge := []service.Entry{{Membership: &domain.Membership{ID: 1,
		Workspace: &domain.Workspace{ID: 2, Description: strings.Repeat("x", 1<<20)}, Organization: &domain.Organization{ID: 3}}}}
	buf, err := enc.Encode(huge, domain.SessionSummary{})
	if err != nil {
		t.Fatal(err)
	}
	Release(buf)
	small := make([]service.Entry, 200)
	ws, org := &domain.Workspace{ID: 4}, &domain.Organization{ID: 5}
	for i := range small {
		small[i] = service.Entry{Membership: &domain.Membership{ID: int64(i), Workspace: ws, Organization: org}}
	}
	for range 3 { // the pool may hand back the huge answer's buffer: it is kept, not grown
		buf, err := enc.Encode(small, domain.SessionSummary{})
		if err != nil {
			t.Fatal(err)
		}
		if c := cap(*buf); c > 2<<20 {
			t.Fatalf("a %d-byte answer in a buffer of %d bytes", len(*buf), c)
		}
		Release(buf)
	}
}
