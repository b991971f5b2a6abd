package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wachtbench/memberships/internal/domain"
)

// Load inserts the data set in one transaction, in the order of the Dataset's
// fields; the first failing record aborts everything and is named by its
// Path, with the same messages as the SQLite store.
func (s *Store) Load(ctx context.Context, ds *domain.Dataset) error {
	l := &loader{ctx: ctx, inserted: map[string]map[int64]bool{}}
	err := pgx.BeginFunc(ctx, s.primary, func(tx pgx.Tx) error {
		l.tx = tx
		for _, step := range []func(*domain.Dataset) error{
			l.deployments, l.users, l.authenticators, l.segments, l.organizations,
			l.workspaces, l.autoAssigned, l.organizationRoles, l.workspaceRoles,
			l.organizationMemberships, l.workspaceMemberships,
		} {
			if err := step(ds); err != nil {
				return err
			}
		}
		return nil
	})
	// A failed statement aborts the transaction, so a foreign-key violation
	// is explained once it has been rolled back.
	var fe *fkError
	if errors.As(err, &fe) {
		return l.explainForeignKey(s.primary, fe)
	}
	return err
}

type loader struct {
	ctx context.Context
	tx  pgx.Tx
	// inserted holds the ids this load wrote, per table: after a rollback
	// they are gone, but they existed for the record that failed.
	inserted map[string]map[int64]bool
}

// ref is a foreign key of a record, checked one by one to explain a
// foreign-key violation in the record's own terms.
type ref struct {
	field, table string
	id           int64
}

// row describes the record being inserted, for error messages.
type row struct {
	path string
	// table and id, when set, are recorded in loader.inserted.
	table string
	id    int64
	// unique maps the name of a unique constraint or index to what the
	// conflict means.
	unique map[string]string
	refs   []ref
	// mismatch explains a foreign-key failure whose references all exist:
	// a composite key whose parts disagree.
	mismatch string
}

type fkError struct {
	r   row
	err error
}

func (e *fkError) Error() string { return fmt.Sprintf("%s: %v", e.r.path, e.err) }
func (e *fkError) Unwrap() error { return e.err }

func (l *loader) exec(r row, query string, args ...any) error {
	if _, err := l.tx.Exec(l.ctx, query, args...); err != nil {
		return l.explain(r, err)
	}
	if r.table != "" {
		if l.inserted[r.table] == nil {
			l.inserted[r.table] = map[int64]bool{}
		}
		l.inserted[r.table][r.id] = true
	}
	return nil
}

func (l *loader) explain(r row, err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", r.path, err)
	}
	switch pe.Code {
	case uniqueViolation:
		if what, ok := r.unique[pe.ConstraintName]; ok {
			return fmt.Errorf("%s: %w", joinPath(r.path, what), domain.ErrConflict)
		}
		return fmt.Errorf("%s: duplicate (%s): %w", r.path, pe.ConstraintName, domain.ErrConflict)
	case foreignKeyViolation:
		return &fkError{r: r, err: err}
	case checkViolation:
		return fmt.Errorf("%s: invalid %s", r.path, pe.ConstraintName)
	case notNullViolation:
		return fmt.Errorf("%s: invalid %s", r.path, pe.ColumnName)
	}
	return fmt.Errorf("%s: %w", r.path, err)
}

// explainForeignKey names the reference of a failed record that does not
// exist (neither before the load nor written by it), or its mismatch.
func (l *loader) explainForeignKey(q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, fe *fkError) error {
	r := fe.r
	for _, f := range r.refs {
		ok := l.inserted[f.table][f.id]
		if !ok {
			if err := q.QueryRow(l.ctx, "SELECT EXISTS (SELECT 1 FROM "+f.table+" WHERE id = $1)", f.id).Scan(&ok); err != nil {
				return fmt.Errorf("%s: %w (checking %s: %v)", r.path, fe.err, f.field, err)
			}
		}
		if !ok {
			return fmt.Errorf("%s.%s: %s %d does not exist", r.path, f.field, strings.TrimSuffix(f.table, "s"), f.id)
		}
	}
	if r.mismatch != "" {
		return fmt.Errorf("%s: %s", r.path, r.mismatch)
	}
	return fmt.Errorf("%s: %w", r.path, fe.err)
}

// joinPath appends a field to a path unless the message starts with one.
func joinPath(path, what string) string {
	if strings.HasPrefix(what, ".") {
		return path + what
	}
	return path + ": " + what
}

func idTaken(table string, id int64, constraints ...string) map[string]string {
	m := map[string]string{table + "_pkey": fmt.Sprintf("id %d already exists", id)}
	for _, c := range constraints {
		m[c] = m[table+"_pkey"]
	}
	return m
}

// jsonObject compacts a JSON object for storage (the json type keeps the
// text as given); empty means "{}". Invalid JSON is refused here, with the
// message SQLite's CHECK constraint gives, as PostgreSQL would reject it with
// a syntax error instead.
func jsonObject(path, column string, m json.RawMessage) (json.RawMessage, error) {
	if len(m) == 0 {
		return json.RawMessage("{}"), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, m); err != nil {
		return nil, fmt.Errorf("%s: invalid %s", path, column)
	}
	return b.Bytes(), nil
}

func strs(v []string) []string { return nonNil(v) }

func (l *loader) deployments(ds *domain.Dataset) error {
	for _, d := range ds.Deployments {
		r := row{path: d.Path, table: "deployments", id: d.ID, unique: idTaken("deployments", d.ID)}
		if len(d.Hosts) == 0 {
			return fmt.Errorf("%s.hosts: a deployment needs a host", d.Path)
		}
		if err := l.exec(r, `INSERT INTO deployments (id, host, mode, ip_allowlist_per_workspace_enabled,
			enforce_mfa_per_workspace_enabled, allowed_origins, cookie_domain, created_at, updated_at, deleted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			d.ID, d.Hosts[0], string(d.Mode), d.IPAllowlistPerWorkspaceEnabled, d.EnforceMFAPerWorkspaceEnabled,
			strs(d.AllowedOrigins), d.CookieDomain, d.CreatedAt, d.UpdatedAt, d.DeletedAt); err != nil {
			return err
		}
		for i, h := range d.Hosts {
			what := fmt.Sprintf(".hosts: host %q already belongs to another deployment", h)
			for _, prev := range d.Hosts[:i] {
				if prev == h {
					what = fmt.Sprintf(".hosts: host %q listed twice", h)
				}
			}
			r := row{path: d.Path, unique: map[string]string{"deployment_hosts_pkey": what}}
			if err := l.exec(r, `INSERT INTO deployment_hosts (host, deployment_id) VALUES ($1, $2)`, h, d.ID); err != nil {
				return err
			}
		}
		r = row{path: d.Path}
		if err := l.exec(r, `INSERT INTO deployment_key_pairs (deployment_id, private_key_pem, public_key_pem, created_at)
			VALUES ($1, $2, $3, $4)`, d.ID, string(d.PrivateKeyPEM), string(d.PublicKeyPEM), d.CreatedAt); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) users(ds *domain.Dataset) error {
	for _, u := range ds.Users {
		r := row{
			path: u.Path, table: "users", id: u.ID,
			unique: map[string]string{
				"users_pkey":             fmt.Sprintf("id %d already exists", u.ID),
				"users_deployment_email": fmt.Sprintf(".email: %q already used in this deployment", u.Email),
			},
			refs: []ref{{"deployment_id", "deployments", u.DeploymentID}},
		}
		if err := l.exec(r, `INSERT INTO users (id, deployment_id, email, first_name, last_name,
			backup_codes_generated, created_at, updated_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			u.ID, u.DeploymentID, u.Email, u.FirstName, u.LastName, u.BackupCodesGenerated,
			u.CreatedAt, u.UpdatedAt, u.DeletedAt); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) authenticators(ds *domain.Dataset) error {
	for _, a := range ds.Authenticators {
		r := row{path: a.Path, unique: idTaken("user_authenticators", a.ID),
			refs: []ref{{"user_id", "users", a.UserID}}}
		if err := l.exec(r, `INSERT INTO user_authenticators (id, user_id, type, created_at, updated_at, deleted_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, a.ID, a.UserID, a.Type, a.CreatedAt, a.UpdatedAt, a.DeletedAt); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) segments(ds *domain.Dataset) error {
	for _, sg := range ds.Segments {
		r := row{path: sg.Path, table: "segments", id: sg.ID, unique: idTaken("segments", sg.ID),
			refs: []ref{{"deployment_id", "deployments", sg.DeploymentID}}}
		if err := l.exec(r, `INSERT INTO segments (id, deployment_id, name, type, created_at, updated_at, deleted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, sg.ID, sg.DeploymentID, sg.Name, string(sg.Type),
			sg.CreatedAt, sg.UpdatedAt, sg.DeletedAt); err != nil {
			return err
		}
	}
	return nil
}

// linkSegments writes a workspace's or organization's segment links.
func (l *loader) linkSegments(path, table, owner string, ownerID int64, segmentIDs []int64) error {
	for _, sid := range segmentIDs {
		r := row{
			path:   path,
			unique: map[string]string{table + "_pkey": fmt.Sprintf(".segment_ids: segment %d listed twice", sid)},
			refs:   []ref{{"segment_ids", "segments", sid}},
		}
		if err := l.exec(r, "INSERT INTO "+table+" ("+owner+", segment_id) VALUES ($1, $2)", ownerID, sid); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) organizations(ds *domain.Dataset) error {
	for _, o := range ds.Organizations {
		pub, err := jsonObject(o.Path, "public_metadata", o.PublicMetadata)
		if err != nil {
			return err
		}
		priv, err := jsonObject(o.Path, "private_metadata", o.PrivateMetadata)
		if err != nil {
			return err
		}
		// auto_assigned_workspace_id waits for the workspaces (autoAssigned).
		r := row{path: o.Path, table: "organizations", id: o.ID,
			unique: idTaken("organizations", o.ID, "organizations_id_deployment"),
			refs:   []ref{{"deployment_id", "deployments", o.DeploymentID}}}
		if err := l.exec(r, `INSERT INTO organizations (id, deployment_id, name, image_url, description,
			public_metadata, private_metadata, enforce_mfa, enable_ip_restriction, whitelisted_ips,
			created_at, updated_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			o.ID, o.DeploymentID, o.Name, o.ImageURL, o.Description, pub, priv, o.EnforceMFA, o.EnableIPRestriction,
			strs(o.WhitelistedIPs), o.CreatedAt, o.UpdatedAt, o.DeletedAt); err != nil {
			return err
		}
		if err := l.linkSegments(o.Path, "organization_segments", "organization_id", o.ID, o.SegmentIDs); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) workspaces(ds *domain.Dataset) error {
	for _, w := range ds.Workspaces {
		pub, err := jsonObject(w.Path, "public_metadata", w.PublicMetadata)
		if err != nil {
			return err
		}
		priv, err := jsonObject(w.Path, "private_metadata", w.PrivateMetadata)
		if err != nil {
			return err
		}
		r := row{
			path: w.Path, table: "workspaces", id: w.ID,
			unique:   idTaken("workspaces", w.ID, "workspaces_id_organization"),
			refs:     []ref{{"organization_id", "organizations", w.OrganizationID}},
			mismatch: fmt.Sprintf("organization %d is not in deployment %d", w.OrganizationID, w.DeploymentID),
		}
		if err := l.exec(r, `INSERT INTO workspaces (id, organization_id, deployment_id, name, image_url, description,
			public_metadata, private_metadata, enforce_2fa, enable_ip_restriction, whitelisted_ips,
			created_at, updated_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			w.ID, w.OrganizationID, w.DeploymentID, w.Name, w.ImageURL, w.Description, pub, priv,
			w.Enforce2FA, w.EnableIPRestriction, strs(w.WhitelistedIPs), w.CreatedAt, w.UpdatedAt, w.DeletedAt); err != nil {
			return err
		}
		if err := l.linkSegments(w.Path, "workspace_segments", "workspace_id", w.ID, w.SegmentIDs); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) autoAssigned(ds *domain.Dataset) error {
	for _, o := range ds.Organizations {
		if o.AutoAssignedWorkspaceID == nil {
			continue
		}
		id := *o.AutoAssignedWorkspaceID
		r := row{
			path:     o.Path,
			refs:     []ref{{"auto_assigned_workspace_id", "workspaces", id}},
			mismatch: fmt.Sprintf("auto_assigned_workspace_id: workspace %d is not in this organization", id),
		}
		if err := l.exec(r, `UPDATE organizations SET auto_assigned_workspace_id = $1 WHERE id = $2`, id, o.ID); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) organizationRoles(ds *domain.Dataset) error {
	for _, ro := range ds.OrganizationRoles {
		r := row{
			path: ro.Path, table: "organization_roles", id: ro.ID,
			unique:   idTaken("organization_roles", ro.ID),
			refs:     []ref{{"organization_id", "organizations", ro.ScopeID}},
			mismatch: fmt.Sprintf("organization %d is not in deployment %d", ro.ScopeID, ro.DeploymentID),
		}
		if err := l.exec(r, `INSERT INTO organization_roles (id, deployment_id, organization_id, name, permissions,
			created_at, updated_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			ro.ID, ro.DeploymentID, ro.ScopeID, ro.Name, strs(ro.Permissions),
			ro.CreatedAt, ro.UpdatedAt, ro.DeletedAt); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) workspaceRoles(ds *domain.Dataset) error {
	for _, ro := range ds.WorkspaceRoles {
		r := row{
			path: ro.Path, table: "workspace_roles", id: ro.ID,
			unique: idTaken("workspace_roles", ro.ID),
			refs: []ref{
				{"deployment_id", "deployments", ro.DeploymentID},
				{"workspace_id", "workspaces", ro.ScopeID},
			},
		}
		if err := l.exec(r, `INSERT INTO workspace_roles (id, deployment_id, workspace_id, name, permissions,
			created_at, updated_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			ro.ID, ro.DeploymentID, ro.ScopeID, ro.Name, strs(ro.Permissions),
			ro.CreatedAt, ro.UpdatedAt, ro.DeletedAt); err != nil {
			return err
		}
	}
	return nil
}

// linkRoles writes a membership's role links.
func (l *loader) linkRoles(path, table, owner, roleCol, roleTable string, ownerID int64, roleIDs []int64) error {
	for _, rid := range roleIDs {
		r := row{
			path:   path,
			unique: map[string]string{table + "_pkey": fmt.Sprintf(".role_ids: role %d listed twice", rid)},
			refs:   []ref{{"role_ids", roleTable, rid}},
		}
		if err := l.exec(r, "INSERT INTO "+table+" ("+owner+", "+roleCol+") VALUES ($1, $2)", ownerID, rid); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) organizationMemberships(ds *domain.Dataset) error {
	for _, m := range ds.OrganizationMemberships {
		r := row{
			path: m.Path, table: "organization_memberships", id: m.ID,
			unique: idTaken("organization_memberships", m.ID, "organization_memberships_id_organization_user"),
			refs: []ref{
				{"organization_id", "organizations", m.OrganizationID},
				{"user_id", "users", m.UserID},
			},
		}
		r.unique["organization_memberships_live"] = fmt.Sprintf(
			"user %d already has a membership in organization %d", m.UserID, m.OrganizationID)
		if err := l.exec(r, `INSERT INTO organization_memberships (id, organization_id, user_id,
			created_at, updated_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			m.ID, m.OrganizationID, m.UserID, m.CreatedAt, m.UpdatedAt, m.DeletedAt); err != nil {
			return err
		}
		if err := l.linkRoles(m.Path, "organization_membership_roles", "organization_membership_id",
			"organization_role_id", "organization_roles", m.ID, m.RoleIDs); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) workspaceMemberships(ds *domain.Dataset) error {
	for _, m := range ds.WorkspaceMemberships {
		pub, err := jsonObject(m.Path, "public_metadata", m.PublicMetadata)
		if err != nil {
			return err
		}
		r := row{
			path: m.Path, table: "workspace_memberships", id: m.ID,
			unique: idTaken("workspace_memberships", m.ID),
			refs: []ref{
				{"workspace_id", "workspaces", m.WorkspaceID},
				{"organization_id", "organizations", m.OrganizationID},
				{"organization_membership_id", "organization_memberships", m.OrganizationMembershipID},
				{"user_id", "users", m.UserID},
			},
			mismatch: fmt.Sprintf("workspace %d, organization %d, organization membership %d and user %d do not belong together",
				m.WorkspaceID, m.OrganizationID, m.OrganizationMembershipID, m.UserID),
		}
		r.unique["workspace_memberships_live"] = fmt.Sprintf(
			"user %d already has a membership in workspace %d", m.UserID, m.WorkspaceID)
		if err := l.exec(r, `INSERT INTO workspace_memberships (id, workspace_id, organization_id,
			organization_membership_id, user_id, public_metadata, created_at, updated_at, deleted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			m.ID, m.WorkspaceID, m.OrganizationID, m.OrganizationMembershipID, m.UserID, pub,
			m.CreatedAt, m.UpdatedAt, m.DeletedAt); err != nil {
			return err
		}
		if err := l.linkRoles(m.Path, "workspace_membership_roles", "workspace_membership_id",
			"workspace_role_id", "workspace_roles", m.ID, m.RoleIDs); err != nil {
			return err
		}
	}
	return nil
}
