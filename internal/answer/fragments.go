package answer

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/domain"
)

// Fragments are encoded with the generated types and encoding/json, so they
// are byte for byte what encoding/json writes for them inside a whole
// gen.WorkspaceMembershipsResponse (keys sorted, metadata through a map,
// HTML-safe escaping); only the per-request splice around them is written
// by hand (answer.go).

// Workspace is w as the generated type shows it.
func Workspace(w *domain.Workspace) (gen.Workspace, error) {
	meta, err := metadata(w.PublicMetadata)
	return gen.Workspace{
		Id: id(w.ID), Name: w.Name, ImageUrl: w.ImageURL, Description: w.Description,
		MemberCount: w.MemberCount, PublicMetadata: meta, PrivateMetadata: gen.PrivateMetadata{},
		Enforce2fa: w.Enforce2FA, EnableIpRestriction: w.EnableIPRestriction, WhitelistedIps: nonNil(w.WhitelistedIPs),
		CreatedAt: utc(w.CreatedAt), UpdatedAt: utc(w.UpdatedAt), Segments: segments(w.Segments),
	}, err
}

// Organization is o as the generated type shows it.
func Organization(o *domain.Organization) (gen.Organization, error) {
	meta, err := metadata(o.PublicMetadata)
	auto := ""
	if o.AutoAssignedWorkspaceID != nil {
		auto = id(*o.AutoAssignedWorkspaceID)
	}
	return gen.Organization{
		Id: id(o.ID), Name: o.Name, ImageUrl: o.ImageURL, Description: o.Description,
		MemberCount: o.MemberCount, PublicMetadata: meta, PrivateMetadata: gen.PrivateMetadata{},
		EnforceMfa: o.EnforceMFA, EnableIpRestriction: o.EnableIPRestriction, WhitelistedIps: nonNil(o.WhitelistedIPs),
		AutoAssignedWorkspaceId: auto,
		CreatedAt:               utc(o.CreatedAt), UpdatedAt: utc(o.UpdatedAt), Segments: segments(o.Segments),
	}, err
}

// Role is r as the generated type shows it.
func Role(r *domain.Role) gen.WorkspaceRole {
	return gen.WorkspaceRole{
		Id: id(r.ID), Name: r.Name, Permissions: nonNil(r.Permissions),
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
}

func encodeWorkspace(w *domain.Workspace) ([]byte, error) { return marshal(Workspace(w)) }

func encodeOrganization(o *domain.Organization) ([]byte, error) { return marshal(Organization(o)) }

func encodeRole(r *domain.Role) ([]byte, error) { return json.Marshal(Role(r)) }

// encodeMetadata writes a membership's stored public_metadata as
// encoding/json writes it through gen.Metadata: keys sorted, numbers as
// float64, <, >, &, U+2028 and U+2029 escaped.
func encodeMetadata(raw []byte) ([]byte, error) { return marshal(metadata(raw)) }

func marshal[T any](v T, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func segments(ss []domain.Segment) []gen.Segment {
	out := make([]gen.Segment, len(ss))
	for i, s := range ss {
		out[i] = gen.Segment{
			Id: id(s.ID), DeploymentId: id(s.DeploymentID), Name: s.Name, Type: gen.SegmentType(s.Type),
			CreatedAt: utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt),
		}
	}
	return out
}

// metadata decodes a stored JSON object (empty: {}); anything else, a
// list, text or null another writer stored, is an error.
func metadata(raw json.RawMessage) (gen.Metadata, error) {
	m := gen.Metadata{}
	if len(raw) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errNotObject
	}
	return m, nil
}

var errNotObject = errors.New("not a JSON object")

func id(v int64) string { return strconv.FormatInt(v, 10) }

func utc(t time.Time) time.Time { return t.UTC() }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
