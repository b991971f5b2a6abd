package loadfile

// Organizations, their workspaces, roles and memberships.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/wachtbench/memberships/internal/domain"
)

// groupOut is what organizations and workspaces share, checked.
type groupOut struct {
	name, imageURL, description string
	public, private             json.RawMessage
	ips                         []string
	segments                    []int64
}

func (b *builder) group(path string, d *deploymentScope, in *group) groupOut {
	g := groupOut{
		name:        b.required(path+".name", in.Name),
		imageURL:    strings.TrimSpace(in.ImageURL),
		description: in.Description,
		public:      b.metadata(path+".public_metadata", in.PublicMetadata),
		private:     b.metadata(path+".private_metadata", in.PrivateMetadata),
		// Kept as written, malformed entries included: they simply allow nothing.
		ips:      append([]string{}, in.WhitelistedIPs...),
		segments: b.refs(path+".segments", in.Segments, d.segments, "segment"),
	}
	if g.imageURL != "" {
		if u, err := url.Parse(g.imageURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			b.errs.add(path+".image_url", "%q is not an absolute http(s) URL", in.ImageURL)
		}
	}
	return g
}

func (b *builder) organization(path string, d *deploymentScope, in *organizationIn) {
	id := b.id(path, in.ID)
	g := b.group(path, d, &in.group)
	b.addName(path+".name", d.organizations, id, g.name, "organization")
	at := len(b.ds.Organizations)
	b.ds.Organizations = append(b.ds.Organizations, domain.OrganizationRecord{
		Path:                path,
		ID:                  id,
		DeploymentID:        d.id,
		Name:                g.name,
		ImageURL:            g.imageURL,
		Description:         g.description,
		PublicMetadata:      g.public,
		PrivateMetadata:     g.private,
		EnforceMFA:          in.EnforceMFA,
		EnableIPRestriction: in.EnableIPRestriction,
		WhitelistedIPs:      g.ips,
		SegmentIDs:          g.segments,
		Times:               b.times(path, in.entity),
	})

	roles := b.roles(path, d, id, in.Roles, &b.ds.OrganizationRoles)
	members := map[int64]int64{} // user id → organization membership id
	for i, m := range in.Members {
		p := fmt.Sprintf("%s.members[%d]", path, i)
		rec := domain.OrganizationMembershipRecord{
			Path:           p,
			ID:             b.id(p, m.ID),
			OrganizationID: id,
			RoleIDs:        b.refs(p+".roles", m.Roles, roles, "organization role"),
			Times:          b.times(p, m.entity),
		}
		var ok bool
		if rec.UserID, ok = b.member(p, d, m.User, members, rec.ID); ok {
			b.ds.OrganizationMemberships = append(b.ds.OrganizationMemberships, rec)
		}
	}

	workspaces := newIndex()
	for i := range in.Workspaces {
		b.workspace(fmt.Sprintf("%s.workspaces[%d]", path, i), d, id, workspaces, members, &in.Workspaces[i])
	}
	if ref := strings.TrimSpace(in.AutoAssignedWorkspace); ref != "" {
		if ws, ok := workspaces.find(ref); ok {
			b.ds.Organizations[at].AutoAssignedWorkspaceID = &ws
		} else {
			b.errs.add(path+".auto_assigned_workspace", "unknown workspace %q in this organization", ref)
		}
	}
}

func (b *builder) workspace(path string, d *deploymentScope, orgID int64, names *index, orgMembers map[int64]int64, in *workspaceIn) {
	id := b.id(path, in.ID)
	g := b.group(path, d, &in.group)
	b.addName(path+".name", names, id, g.name, "workspace")
	b.ds.Workspaces = append(b.ds.Workspaces, domain.WorkspaceRecord{
		Path:                path,
		ID:                  id,
		DeploymentID:        d.id,
		OrganizationID:      orgID,
		Name:                g.name,
		ImageURL:            g.imageURL,
		Description:         g.description,
		PublicMetadata:      g.public,
		PrivateMetadata:     g.private,
		Enforce2FA:          in.Enforce2FA,
		EnableIPRestriction: in.EnableIPRestriction,
		WhitelistedIPs:      g.ips,
		SegmentIDs:          g.segments,
		Times:               b.times(path, in.entity),
	})

	roles := b.roles(path, d, id, in.Roles, &b.ds.WorkspaceRoles)
	members := map[int64]int64{}
	for i, m := range in.Members {
		p := fmt.Sprintf("%s.members[%d]", path, i)
		rec := domain.WorkspaceMembershipRecord{
			Path:           p,
			ID:             b.id(p, m.ID),
			WorkspaceID:    id,
			OrganizationID: orgID,
			PublicMetadata: b.metadata(p+".public_metadata", m.PublicMetadata),
			RoleIDs:        b.refs(p+".roles", m.Roles, roles, "workspace role"),
			Times:          b.times(p, m.entity),
		}
		var ok bool
		if rec.UserID, ok = b.member(p, d, m.User, members, rec.ID); !ok {
			continue
		}
		om, ok := orgMembers[rec.UserID]
		if !ok {
			// Every workspace member belongs to the organization; a missing
			// organization membership is created without roles, live even
			// when this workspace membership is deleted.
			om = b.generatedID(p)
			orgMembers[rec.UserID] = om
			b.ds.OrganizationMemberships = append(b.ds.OrganizationMemberships, domain.OrganizationMembershipRecord{
				Path:           p,
				ID:             om,
				OrganizationID: orgID,
				UserID:         rec.UserID,
				RoleIDs:        []int64{},
				Times:          domain.Times{CreatedAt: rec.CreatedAt, UpdatedAt: rec.CreatedAt},
			})
		}
		rec.OrganizationMembershipID = om
		b.ds.WorkspaceMemberships = append(b.ds.WorkspaceMemberships, rec)
	}
}

// member resolves the user of a membership and checks it is the user's only
// membership of that organization or workspace.
func (b *builder) member(path string, d *deploymentScope, ref string, seen map[int64]int64, membershipID int64) (int64, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		b.errs.add(path+".user", "required (an e-mail or user id)")
		return 0, false
	}
	user, ok := d.users.find(strings.ToLower(ref))
	if !ok {
		b.errs.add(path+".user", "unknown user %q", ref)
		return 0, false
	}
	if _, dup := seen[user]; dup {
		b.errs.add(path+".user", "user %q is already a member", ref)
		return 0, false
	}
	seen[user] = membershipID
	return user, true
}

func (b *builder) roles(path string, d *deploymentScope, scope int64, in []roleIn, out *[]domain.RoleRecord) *index {
	names := newIndex()
	for i, r := range in {
		p := fmt.Sprintf("%s.roles[%d]", path, i)
		rec := domain.RoleRecord{
			Path:         p,
			ID:           b.id(p, r.ID),
			DeploymentID: d.id,
			ScopeID:      scope,
			Name:         b.required(p+".name", r.Name),
			Permissions:  make([]string, 0, len(r.Permissions)),
			Times:        b.times(p, r.entity),
		}
		for j, perm := range r.Permissions {
			perm = strings.TrimSpace(perm)
			if perm == "" || strings.ContainsAny(perm, " \t") {
				b.errs.add(fmt.Sprintf("%s.permissions[%d]", p, j), "%q is not a permission name", r.Permissions[j])
				continue
			}
			rec.Permissions = append(rec.Permissions, perm)
		}
		b.addName(p+".name", names, rec.ID, rec.Name, "role")
		*out = append(*out, rec)
	}
	return names
}
