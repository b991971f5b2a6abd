package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wachtbench/memberships/internal/domain"
)

// Load inserts the data set in one transaction, in the order of the Dataset's
// fields; the first failing record aborts everything and is named by its Path.
func (s *Store) Load(ctx context.Context, ds *domain.Dataset) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	l := loader{ctx: ctx, tx: tx}
	for _, step := range []func(*domain.Dataset) error{
		l.deployments, l.users, l.authenticators, l.segments, l.organizations,
		l.workspaces, l.autoAssigned, l.organizationRoles, l.workspaceRoles,
		l.organizationMemberships, l.workspaceMemberships,
	} {
		if err := step(ds); err != nil {
			return err
		}
	}
	return tx.Commit()
}

type loader struct {
	ctx context.Context
	tx  *sql.Tx
}

// ref is a foreign key of a record, checked one by one to explain a
// "FOREIGN KEY constraint failed", which SQLite reports without naming it.
type ref struct {
	field, table string
	id           int64
}

// row describes the record being inserted, for error messages.
type row struct {
	path string
	// unique maps the columns of a UNIQUE constraint, as SQLite names them
	// ("users.deployment_id, users.email"), to what the conflict means.
	unique map[string]string
	refs   []ref
	// mismatch explains a foreign-key failure whose references all exist:
	// a composite key whose parts disagree.
	mismatch string
}

func (l *loader) exec(r row, query string, args ...any) error {
	if _, err := l.tx.ExecContext(l.ctx, query, args...); err != nil {
		return l.explain(r, err)
	}
	return nil
}

func (l *loader) explain(r row, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: %w", r.path, err)
	}
	msg := se.Error()
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		for cols, what := range r.unique {
			if strings.Contains(msg, "constraint failed: "+cols) {
				return fmt.Errorf("%s: %w", joinPath(r.path, what), domain.ErrConflict)
			}
		}
		return fmt.Errorf("%s: duplicate (%s): %w", r.path, constraintText(msg), domain.ErrConflict)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		for _, f := range r.refs {
			var ok bool
			q := "SELECT EXISTS (SELECT 1 FROM " + f.table + " WHERE id = ?)"
			if qerr := l.tx.QueryRowContext(l.ctx, q, f.id).Scan(&ok); qerr != nil {
				return fmt.Errorf("%s: %w (checking %s: %v)", r.path, err, f.field, qerr)
			}
			if !ok {
				return fmt.Errorf("%s.%s: %s %d does not exist", r.path, f.field, strings.TrimSuffix(f.table, "s"), f.id)
			}
		}
		if r.mismatch != "" {
			return fmt.Errorf("%s: %s", r.path, r.mismatch)
		}
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return fmt.Errorf("%s: invalid %s", r.path, constraintText(msg))
	}
	return fmt.Errorf("%s: %w", r.path, err)
}

// joinPath appends a field to a path unless the message starts with one.
func joinPath(path, what string) string {
	if strings.HasPrefix(what, ".") {
		return path + what
	}
	return path + ": " + what
}

// constraintText is what follows "constraint failed: " in a SQLite message,
// without the trailing " (code)".
func constraintText(msg string) string {
	if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
		msg = msg[i+len("constraint failed: "):]
	}
	if i := strings.LastIndex(msg, " ("); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) &&
		(se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func isForeignKey(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

func idTaken(table string, id int64) map[string]string {
	return map[string]string{table + ".id": fmt.Sprintf("id %d already exists", id)}
}

// jsonObject compacts a JSON object for storage; empty means "{}". Invalid
// JSON is stored as given, for the CHECK constraint named after the column to
// reject. It is bound as text: SQLite reads a BLOB argument as JSONB.
func jsonObject(m json.RawMessage) string {
	if len(m) == 0 {
		return "{}"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, m); err != nil {
		return string(m)
	}
	return b.String()
}

func jsonStrings(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v) // cannot fail for strings
	return string(b)
}

func (l *loader) deployments(ds *domain.Dataset) error {
	for _, d := range ds.Deployments {
		r := row{path: d.Path, unique: idTaken("deployments", d.ID)}
		if len(d.Hosts) == 0 {
			return fmt.Errorf("%s.hosts: a deployment needs a host", d.Path)
		}
		if err := l.exec(r, `INSERT INTO deployments (id, host, mode, ip_allowlist_per_workspace_enabled,
			enforce_mfa_per_workspace_enabled, allowed_origins, cookie_domain, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.Hosts[0], string(d.Mode), d.IPAllowlistPerWorkspaceEnabled, d.EnforceMFAPerWorkspaceEnabled, jsonStrings(d.AllowedOrigins), d.CookieDomain,
			micros(d.CreatedAt), micros(d.UpdatedAt), nullMicros(d.DeletedAt)); err != nil {
			return err
		}
		for i, h := range d.Hosts {
			what := fmt.Sprintf(".hosts: host %q already belongs to another deployment", h)
			for _, prev := range d.Hosts[:i] {
				if prev == h {
					what = fmt.Sprintf(".hosts: host %q listed twice", h)
				}
			}
			r := row{path: d.Path, unique: map[string]string{"deployment_hosts.host": what}}
			if err := l.exec(r, `INSERT INTO deployment_hosts (host, deployment_id) VALUES (?, ?)`, h, d.ID); err != nil {
				return err
			}
		}
		r = row{path: d.Path}
		if err := l.exec(r, `INSERT INTO deployment_key_pairs (deployment_id, private_key_pem, public_key_pem, created_at)
			VALUES (?, ?, ?, ?)`, d.ID, string(d.PrivateKeyPEM), string(d.PublicKeyPEM), micros(d.CreatedAt)); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) users(ds *domain.Dataset) error {
	for _, u := range ds.Users {
		r := row{
			path: u.Path,
			unique: map[string]string{
				"users.id":                         fmt.Sprintf("id %d already exists", u.ID),
				"users.deployment_id, users.email": fmt.Sprintf(".email: %q already used in this deployment", u.Email),
			},
			refs: []ref{{"deployment_id", "deployments", u.DeploymentID}},
		}
		if err := l.exec(r, `INSERT INTO users (id, deployment_id, email, first_name, last_name,
			backup_codes_generated, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.DeploymentID, u.Email, u.FirstName, u.LastName, u.BackupCodesGenerated,
			micros(u.CreatedAt), micros(u.UpdatedAt), nullMicros(u.DeletedAt)); err != nil {
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
			VALUES (?, ?, ?, ?, ?, ?)`,
			a.ID, a.UserID, a.Type, micros(a.CreatedAt), micros(a.UpdatedAt), nullMicros(a.DeletedAt)); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) segments(ds *domain.Dataset) error {
	for _, sg := range ds.Segments {
		r := row{path: sg.Path, unique: idTaken("segments", sg.ID),
			refs: []ref{{"deployment_id", "deployments", sg.DeploymentID}}}
		if err := l.exec(r, `INSERT INTO segments (id, deployment_id, name, type, created_at, updated_at, deleted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, sg.ID, sg.DeploymentID, sg.Name, string(sg.Type),
			micros(sg.CreatedAt), micros(sg.UpdatedAt), nullMicros(sg.DeletedAt)); err != nil {
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
			unique: map[string]string{table + "." + owner: fmt.Sprintf(".segment_ids: segment %d listed twice", sid)},
			refs:   []ref{{"segment_ids", "segments", sid}},
		}
		if err := l.exec(r, "INSERT INTO "+table+" ("+owner+", segment_id) VALUES (?, ?)", ownerID, sid); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) organizations(ds *domain.Dataset) error {
	for _, o := range ds.Organizations {
		// auto_assigned_workspace_id waits for the workspaces (autoAssigned).
		r := row{path: o.Path, unique: idTaken("organizations", o.ID),
			refs: []ref{{"deployment_id", "deployments", o.DeploymentID}}}
		if err := l.exec(r, `INSERT INTO organizations (id, deployment_id, name, image_url, description,
			public_metadata, private_metadata, enforce_mfa, enable_ip_restriction, whitelisted_ips,
			created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, o.DeploymentID, o.Name, o.ImageURL, o.Description,
			jsonObject(o.PublicMetadata), jsonObject(o.PrivateMetadata), o.EnforceMFA, o.EnableIPRestriction,
			jsonStrings(o.WhitelistedIPs), micros(o.CreatedAt), micros(o.UpdatedAt), nullMicros(o.DeletedAt)); err != nil {
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
		r := row{
			path:     w.Path,
			unique:   idTaken("workspaces", w.ID),
			refs:     []ref{{"organization_id", "organizations", w.OrganizationID}},
			mismatch: fmt.Sprintf("organization %d is not in deployment %d", w.OrganizationID, w.DeploymentID),
		}
		if err := l.exec(r, `INSERT INTO workspaces (id, organization_id, deployment_id, name, image_url, description,
			public_metadata, private_metadata, enforce_2fa, enable_ip_restriction, whitelisted_ips,
			created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.OrganizationID, w.DeploymentID, w.Name, w.ImageURL, w.Description,
			jsonObject(w.PublicMetadata), jsonObject(w.PrivateMetadata), w.Enforce2FA, w.EnableIPRestriction,
			jsonStrings(w.WhitelistedIPs), micros(w.CreatedAt), micros(w.UpdatedAt), nullMicros(w.DeletedAt)); err != nil {
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
		if err := l.exec(r, `UPDATE organizations SET auto_assigned_workspace_id = ? WHERE id = ?`, id, o.ID); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) organizationRoles(ds *domain.Dataset) error {
	for _, ro := range ds.OrganizationRoles {
		r := row{
			path:     ro.Path,
			unique:   idTaken("organization_roles", ro.ID),
			refs:     []ref{{"organization_id", "organizations", ro.ScopeID}},
			mismatch: fmt.Sprintf("organization %d is not in deployment %d", ro.ScopeID, ro.DeploymentID),
		}
		if err := l.exec(r, `INSERT INTO organization_roles (id, deployment_id, organization_id, name, permissions,
			created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			ro.ID, ro.DeploymentID, ro.ScopeID, ro.Name, jsonStrings(ro.Permissions),
			micros(ro.CreatedAt), micros(ro.UpdatedAt), nullMicros(ro.DeletedAt)); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) workspaceRoles(ds *domain.Dataset) error {
	for _, ro := range ds.WorkspaceRoles {
		r := row{
			path:   ro.Path,
			unique: idTaken("workspace_roles", ro.ID),
			refs: []ref{
				{"deployment_id", "deployments", ro.DeploymentID},
				{"workspace_id", "workspaces", ro.ScopeID},
			},
		}
		if err := l.exec(r, `INSERT INTO workspace_roles (id, deployment_id, workspace_id, name, permissions,
			created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			ro.ID, ro.DeploymentID, ro.ScopeID, ro.Name, jsonStrings(ro.Permissions),
			micros(ro.CreatedAt), micros(ro.UpdatedAt), nullMicros(ro.DeletedAt)); err != nil {
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
			unique: map[string]string{table + "." + owner: fmt.Sprintf(".role_ids: role %d listed twice", rid)},
			refs:   []ref{{"role_ids", roleTable, rid}},
		}
		if err := l.exec(r, "INSERT INTO "+table+" ("+owner+", "+roleCol+") VALUES (?, ?)", ownerID, rid); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) organizationMemberships(ds *domain.Dataset) error {
	for _, m := range ds.OrganizationMemberships {
		r := row{
			path: m.Path,
			unique: map[string]string{
				"organization_memberships.id": fmt.Sprintf("id %d already exists", m.ID),
				"organization_memberships.organization_id, organization_memberships.user_id": fmt.Sprintf(
					"user %d already has a membership in organization %d", m.UserID, m.OrganizationID),
			},
			refs: []ref{
				{"organization_id", "organizations", m.OrganizationID},
				{"user_id", "users", m.UserID},
			},
		}
		if err := l.exec(r, `INSERT INTO organization_memberships (id, organization_id, user_id,
			created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?)`,
			m.ID, m.OrganizationID, m.UserID, micros(m.CreatedAt), micros(m.UpdatedAt), nullMicros(m.DeletedAt)); err != nil {
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
		r := row{
			path: m.Path,
			unique: map[string]string{
				"workspace_memberships.id": fmt.Sprintf("id %d already exists", m.ID),
				"workspace_memberships.workspace_id, workspace_memberships.user_id": fmt.Sprintf(
					"user %d already has a membership in workspace %d", m.UserID, m.WorkspaceID),
			},
			refs: []ref{
				{"workspace_id", "workspaces", m.WorkspaceID},
				{"organization_id", "organizations", m.OrganizationID},
				{"organization_membership_id", "organization_memberships", m.OrganizationMembershipID},
				{"user_id", "users", m.UserID},
			},
			mismatch: fmt.Sprintf("workspace %d, organization %d, organization membership %d and user %d do not belong together",
				m.WorkspaceID, m.OrganizationID, m.OrganizationMembershipID, m.UserID),
		}
		if err := l.exec(r, `INSERT INTO workspace_memberships (id, workspace_id, organization_id,
			organization_membership_id, user_id, public_metadata, created_at, updated_at, deleted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.WorkspaceID, m.OrganizationID, m.OrganizationMembershipID, m.UserID, jsonObject(m.PublicMetadata),
			micros(m.CreatedAt), micros(m.UpdatedAt), nullMicros(m.DeletedAt)); err != nil {
			return err
		}
		if err := l.linkRoles(m.Path, "workspace_membership_roles", "workspace_membership_id",
			"workspace_role_id", "workspace_roles", m.ID, m.RoleIDs); err != nil {
			return err
		}
	}
	return nil
}
