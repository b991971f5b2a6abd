package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wachtbench/memberships/internal/domain"
)

// col is one column of a row: adding a column to a table is one line here.
type col struct {
	name  string
	value any
}

// planner turns records into batches, converting values for the dialect;
// err is the first value refused (invalid JSON), which stops the load
// before anything is sent.
type planner struct {
	d       Dialect
	derive  Deriver // nil: the store derives columns itself
	batches []*batch
	err     error
}

func (p *planner) table(name string) *batch {
	b := &batch{table: name}
	p.batches = append(p.batches, b)
	return b
}

func (p *planner) update(query string) *batch {
	b := &batch{table: strings.Fields(query)[1], update: query} // UPDATE table …
	p.batches = append(p.batches, b)
	return b
}

// add appends a row; the first row's columns name the table's. r describes
// the row's entry for error messages, made only when one is needed.
func (p *planner) add(b *batch, r func() record, t *domain.Times, cols ...col) {
	if t != nil {
		var deleted any
		if t.DeletedAt != nil {
			deleted = p.d.Time(*t.DeletedAt)
		}
		cols = append(cols, col{"created_at", p.d.Time(t.CreatedAt)}, col{"updated_at", p.d.Time(t.UpdatedAt)},
			col{"deleted_at", deleted})
	}
	if b.columns == nil && b.update == "" {
		for _, c := range cols {
			b.columns = append(b.columns, c.name)
		}
	}
	row := make([]any, len(cols))
	for i, c := range cols {
		row[i] = c.value
	}
	b.rows = append(b.rows, row)
	b.recs = append(b.recs, r)
}

// json compacts a JSON object for storage; empty means "{}". Invalid JSON
// is refused, the same in every store; a valid non-object is left to the
// column's CHECK constraint.
func (p *planner) json(path, column string, m json.RawMessage) any {
	if len(m) == 0 {
		return p.d.JSON([]byte("{}"))
	}
	var b bytes.Buffer
	if err := json.Compact(&b, m); err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("%s: invalid %s", path, column)
		}
		return nil
	}
	return p.d.JSON(b.Bytes())
}

func idTaken(id int64) map[string]string {
	return map[string]string{"id": fmt.Sprintf("id %d already exists", id)}
}

// plan lays out ds as batches, in the order the foreign keys need.
func plan(d Dialect, ds *domain.Dataset) ([]*batch, error) {
	p := &planner{d: d}
	p.derive, _ = d.(Deriver)
	deployments := p.table("deployments")
	hosts := p.table("deployment_hosts")
	hosts.after = func(ctx context.Context, tx Tx) error { return checkCookieDomains(ctx, tx, ds) }
	keys := p.table("deployment_key_pairs")
	users := p.table("users")
	authenticators := p.table("user_authenticators")
	segments := p.table("segments")
	organizations := p.table("organizations")
	organizationSegments := p.table("organization_segments")
	workspaces := p.table("workspaces")
	workspaceSegments := p.table("workspace_segments")
	// auto_assigned_workspace_id waits for the workspaces, which need their organization.
	autoAssigned := p.update(`UPDATE organizations SET auto_assigned_workspace_id = $1 WHERE id = $2`)
	organizationRoles := p.table("organization_roles")
	workspaceRoles := p.table("workspace_roles")
	organizationMemberships := p.table("organization_memberships")
	organizationMembershipRoles := p.table("organization_membership_roles")
	workspaceMemberships := p.table("workspace_memberships")
	workspaceMembershipRoles := p.table("workspace_membership_roles")

	for _, x := range ds.Deployments {
		if len(x.Hosts) == 0 {
			return nil, fmt.Errorf("%s.hosts: a deployment needs a host", x.Path)
		}
		p.add(deployments, func() record { return record{path: x.Path, unique: idTaken(x.ID)} }, &x.Times,
			col{"id", x.ID},
			col{"host", x.Hosts[0]},
			col{"mode", string(x.Mode)},
			col{"ip_allowlist_per_workspace_enabled", x.IPAllowlistPerWorkspaceEnabled},
			col{"enforce_mfa_per_workspace_enabled", x.EnforceMFAPerWorkspaceEnabled},
			col{"allowed_origins", d.Strings(x.AllowedOrigins)},
			col{"cookie_domain", x.CookieDomain})
		for i, h := range x.Hosts {
			what := fmt.Sprintf(".hosts: host %q already belongs to another deployment", h)
			for _, prev := range x.Hosts[:i] {
				if prev == h {
					what = fmt.Sprintf(".hosts: host %q listed twice", h)
				}
			}
			p.add(hosts, func() record { return record{path: x.Path, unique: map[string]string{"host": what}} }, nil,
				col{"host", h},
				col{"deployment_id", x.ID})
		}
		p.add(keys, func() record { return record{path: x.Path} }, nil,
			col{"deployment_id", x.ID},
			col{"private_key_pem", string(x.PrivateKeyPEM)},
			col{"public_key_pem", string(x.PublicKeyPEM)},
			col{"created_at", d.Time(x.CreatedAt)})
	}

	for _, x := range ds.Users {
		p.add(users, func() record {
			return record{
				path: x.Path,
				unique: map[string]string{
					"id":            fmt.Sprintf("id %d already exists", x.ID),
					"deployment_id": fmt.Sprintf(".email: %q already used in this deployment", x.Email),
				},
				refs: []ref{{"deployment_id", "deployments", x.DeploymentID}},
			}
		}, &x.Times,
			col{"id", x.ID},
			col{"deployment_id", x.DeploymentID},
			col{"email", x.Email},
			col{"first_name", x.FirstName},
			col{"last_name", x.LastName},
			col{"backup_codes_generated", x.BackupCodesGenerated})
	}

	for _, x := range ds.Authenticators {
		p.child(authenticators, x.Path, x.ID, &x.Times, ref{"user_id", "users", x.UserID},
			col{"type", x.Type})
	}

	for _, x := range ds.Segments {
		p.child(segments, x.Path, x.ID, &x.Times, ref{"deployment_id", "deployments", x.DeploymentID},
			col{"name", x.Name},
			col{"type", string(x.Type)})
	}

	for _, x := range ds.Organizations {
		p.child(organizations, x.Path, x.ID, &x.Times, ref{"deployment_id", "deployments", x.DeploymentID},
			append(p.group(x.Path, x.Name, x.ImageURL, x.Description, x.PublicMetadata, x.PrivateMetadata,
				x.EnableIPRestriction, x.WhitelistedIPs),
				col{"enforce_mfa", x.EnforceMFA})...)
		p.links(organizationSegments, x.Path, "organization_id", x.ID, "segment_id", "segments", "segment", x.SegmentIDs,
			col{"deployment_id", x.DeploymentID})
		if id := x.AutoAssignedWorkspaceID; id != nil {
			p.add(autoAssigned, func() record {
				return record{
					path:     x.Path,
					refs:     []ref{{"auto_assigned_workspace_id", "workspaces", *id}},
					mismatch: fmt.Sprintf("auto_assigned_workspace_id: workspace %d is not in this organization", *id),
				}
			}, nil, col{"auto_assigned_workspace_id", *id}, col{"id", x.ID})
		}
	}

	for _, x := range ds.Workspaces {
		p.add(workspaces, func() record {
			return record{
				path:     x.Path,
				unique:   idTaken(x.ID),
				refs:     []ref{{"organization_id", "organizations", x.OrganizationID}},
				mismatch: fmt.Sprintf("organization %d is not in deployment %d", x.OrganizationID, x.DeploymentID),
			}
		}, &x.Times,
			append(p.group(x.Path, x.Name, x.ImageURL, x.Description, x.PublicMetadata, x.PrivateMetadata,
				x.EnableIPRestriction, x.WhitelistedIPs),
				col{"id", x.ID},
				col{"organization_id", x.OrganizationID},
				col{"deployment_id", x.DeploymentID},
				col{"enforce_2fa", x.Enforce2FA})...)
		p.links(workspaceSegments, x.Path, "workspace_id", x.ID, "segment_id", "segments", "segment", x.SegmentIDs,
			col{"deployment_id", x.DeploymentID})
	}

	p.roles(organizationRoles, "organization_id", ds.OrganizationRoles, func(x domain.RoleRecord) record {
		return record{
			path:     x.Path,
			unique:   idTaken(x.ID),
			refs:     []ref{{"organization_id", "organizations", x.ScopeID}},
			mismatch: fmt.Sprintf("organization %d is not in deployment %d", x.ScopeID, x.DeploymentID),
		}
	})
	p.roles(workspaceRoles, "workspace_id", ds.WorkspaceRoles, func(x domain.RoleRecord) record {
		return record{
			path:   x.Path,
			unique: idTaken(x.ID),
			refs: []ref{
				{"deployment_id", "deployments", x.DeploymentID},
				{"workspace_id", "workspaces", x.ScopeID},
			},
			mismatch: fmt.Sprintf("workspace %d is not in deployment %d", x.ScopeID, x.DeploymentID),
		}
	})

	for _, x := range ds.OrganizationMemberships {
		p.add(organizationMemberships, func() record {
			return record{
				path: x.Path,
				unique: map[string]string{
					"id": fmt.Sprintf("id %d already exists", x.ID),
					"organization_id": fmt.Sprintf("user %d already has a membership in organization %d",
						x.UserID, x.OrganizationID),
				},
				refs: []ref{
					{"organization_id", "organizations", x.OrganizationID},
					{"user_id", "users", x.UserID},
				},
			}
		}, &x.Times,
			col{"id", x.ID},
			col{"organization_id", x.OrganizationID},
			col{"user_id", x.UserID})
		p.links(organizationMembershipRoles, x.Path, "organization_membership_id", x.ID,
			"organization_role_id", "organization_roles", "role", x.RoleIDs,
			col{"organization_id", x.OrganizationID})
	}
	p.derived(organizationMemberships, "permissions", "organization_roles",
		func(i int) []int64 { return ds.OrganizationMemberships[i].RoleIDs }, p.permissions)

	for _, x := range ds.WorkspaceMemberships {
		p.add(workspaceMemberships, func() record {
			return record{
				path: x.Path,
				unique: map[string]string{
					"id":           fmt.Sprintf("id %d already exists", x.ID),
					"workspace_id": fmt.Sprintf("user %d already has a membership in workspace %d", x.UserID, x.WorkspaceID),
				},
				refs: []ref{
					{"workspace_id", "workspaces", x.WorkspaceID},
					{"organization_id", "organizations", x.OrganizationID},
					{"organization_membership_id", "organization_memberships", x.OrganizationMembershipID},
					{"user_id", "users", x.UserID},
				},
				mismatch: fmt.Sprintf("workspace %d, organization %d, organization membership %d and user %d do not belong together",
					x.WorkspaceID, x.OrganizationID, x.OrganizationMembershipID, x.UserID),
			}
		}, &x.Times,
			col{"id", x.ID},
			col{"workspace_id", x.WorkspaceID},
			col{"organization_id", x.OrganizationID},
			col{"organization_membership_id", x.OrganizationMembershipID},
			col{"user_id", x.UserID},
			col{"public_metadata", p.json(x.Path, "public_metadata", x.PublicMetadata)})
		p.links(workspaceMembershipRoles, x.Path, "workspace_membership_id", x.ID,
			"workspace_role_id", "workspace_roles", "role", x.RoleIDs,
			col{"workspace_id", x.WorkspaceID})
	}
	p.derived(workspaceMemberships, "role_refs", "workspace_roles",
		func(i int) []int64 { return ds.WorkspaceMemberships[i].RoleIDs }, roleRefs)
	return p.batches, p.err
}

// child adds a row with an id and one parent, its only foreign key.
func (p *planner) child(b *batch, path string, id int64, t *domain.Times, parent ref, cols ...col) {
	p.add(b, func() record { return record{path: path, unique: idTaken(id), refs: []ref{parent}} }, t,
		append([]col{{"id", id}, {parent.field, parent.id}}, cols...)...)
}

// group is the columns organizations and workspaces share.
func (p *planner) group(path, name, imageURL, description string, public, private json.RawMessage,
	ipRestriction bool, ips []string) []col {
	return []col{
		{"name", name},
		{"image_url", imageURL},
		{"description", description},
		{"public_metadata", p.json(path, "public_metadata", public)},
		{"private_metadata", p.json(path, "private_metadata", private)},
		{"enable_ip_restriction", ipRestriction},
		{"whitelisted_ips", p.d.Strings(ips)},
	}
}

// roles adds organization or workspace roles, whose scope is in column scope.
func (p *planner) roles(b *batch, scope string, roles []domain.RoleRecord, rec func(domain.RoleRecord) record) {
	for _, x := range roles {
		p.add(b, func() record { return rec(x) }, &x.Times,
			col{"id", x.ID},
			col{"deployment_id", x.DeploymentID},
			col{scope, x.ScopeID},
			col{"name", x.Name},
			col{"permissions", p.d.Strings(x.Permissions)})
	}
}

// links adds the rows linking an owner to each of ids, its segments or
// roles (kind), listed in the entry's field kind+"_ids"; a link table's key
// starts with the owner's column. Both ends must share scope, the owner's
// deployment, organization or workspace: a Deriver's link tables carry it as
// a column, which their composite foreign keys check against both ends.
func (p *planner) links(b *batch, path, owner string, ownerID int64, column, table, kind string, ids []int64,
	scope col) {
	cols := []col{{owner, ownerID}, {column, 0}}
	if p.derive != nil {
		cols = append(cols, scope)
	}
	for _, id := range ids {
		cols[1].value = id
		p.add(b, func() record {
			return record{
				path:     path,
				unique:   map[string]string{owner: fmt.Sprintf(".%s_ids: %s %d listed twice", kind, kind, id)},
				refs:     []ref{{kind + "_ids", table, id}},
				mismatch: fmt.Sprintf(".%s_ids: %s %d belongs to another %s", kind, kind, id, strings.TrimSuffix(scope.name, "_id")),
			}
		}, nil, cols...)
	}
}
