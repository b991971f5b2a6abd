package fragment

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/domain"
)

// Fragments are encoded with the generated types and encoding/json, so they
// are byte for byte what encoding/json writes for them inside a whole
// gen.WorkspaceMembershipsResponse (keys sorted, metadata through a map,
// HTML-safe escaping); only the per-request splice around them is written by
// hand (server/encode.go).

func encodeWorkspace(w *domain.Workspace) ([]byte, error) {
	meta, err := metadata(w.PublicMetadata)
	if err != nil {
		return nil, err
	}
	return json.Marshal(gen.Workspace{
		Id: id(w.ID), Name: w.Name, ImageUrl: w.ImageURL, Description: w.Description,
		MemberCount: w.MemberCount, PublicMetadata: meta, PrivateMetadata: gen.PrivateMetadata{},
		Enforce2fa: w.Enforce2FA, EnableIpRestriction: w.EnableIPRestriction, WhitelistedIps: nonNil(w.WhitelistedIPs),
		CreatedAt: utc(w.CreatedAt), UpdatedAt: utc(w.UpdatedAt), Segments: segments(w.Segments),
	})
}

func encodeOrganization(o *domain.Organization) ([]byte, error) {
	meta, err := metadata(o.PublicMetadata)
	if err != nil {
		return nil, err
	}
	auto := ""
	if o.AutoAssignedWorkspaceID != nil {
		auto = id(*o.AutoAssignedWorkspaceID)
	}
	return json.Marshal(gen.Organization{
		Id: id(o.ID), Name: o.Name, ImageUrl: o.ImageURL, Description: o.Description,
		MemberCount: o.MemberCount, PublicMetadata: meta, PrivateMetadata: gen.PrivateMetadata{},
		EnforceMfa: o.EnforceMFA, EnableIpRestriction: o.EnableIPRestriction, WhitelistedIps: nonNil(o.WhitelistedIPs),
		AutoAssignedWorkspaceId: auto,
		CreatedAt:               utc(o.CreatedAt), UpdatedAt: utc(o.UpdatedAt), Segments: segments(o.Segments),
	})
}

func encodeRole(r *domain.Role) ([]byte, error) {
	return json.Marshal(gen.WorkspaceRole{
		Id: id(r.ID), Name: r.Name, Permissions: nonNil(r.Permissions),
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	})
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

// metadata decodes a stored JSON object (empty: {}).
func metadata(raw json.RawMessage) (gen.Metadata, error) {
	m := gen.Metadata{}
	if len(raw) == 0 {
		return m, nil
	}
	return m, json.Unmarshal(raw, &m)
}

// Metadata returns a membership's stored public_metadata as encoding/json
// writes it through gen.Metadata, so the splice can copy it through: keys sorted, numbers as float64, <, >, &,
// U+2028 and U+2029 escaped. Metadata values repeat across memberships, so
// encodings are kept, up to a bound.
func (c *Cache) Metadata(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "{}" {
		return emptyObject, nil
	}
	if b, ok := c.metadata.Load(string(raw)); ok {
		return b.([]byte), nil
	}
	m, err := metadata(raw)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if c.metadataLen.Add(1) <= metadataMax {
		c.metadata.Store(string(raw), b)
	}
	return b, nil
}

var emptyObject = []byte("{}")

func id(v int64) string { return strconv.FormatInt(v, 10) }

func utc(t time.Time) time.Time { return t.UTC() }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Encode fills in the encoded fragments and metadata of a membership built
// by hand, as the stores hand them over (for tests of what is spliced).
func Encode(m *domain.Membership) error {
	var err error
	if m.PublicMetadata, err = (&Cache{}).Metadata(m.PublicMetadata); err != nil {
		return err
	}
	if m.Workspace.JSON, err = encodeWorkspace(&m.Workspace); err != nil {
		return err
	}
	if m.Organization.JSON, err = encodeOrganization(&m.Organization); err != nil {
		return err
	}
	for i := range m.Roles {
		if m.Roles[i].JSON, err = encodeRole(&m.Roles[i]); err != nil {
			return err
		}
	}
	return nil
}
