package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wachtbench/memberships/internal/domain"
)

const deploymentByHostSQL = `
SELECT d.id, d.host, d.mode, d.ip_allowlist_per_workspace_enabled, d.enforce_mfa_per_workspace_enabled,
       d.allowed_origins, d.cookie_domain, k.public_key_pem
FROM deployment_hosts h
JOIN deployments d ON d.id = h.deployment_id AND d.deleted_at IS NULL
JOIN deployment_key_pairs k ON k.deployment_id = d.id
WHERE h.host = $1`

// DeploymentByHost finds the live deployment answering on host, on the replica.
func (s *Store) DeploymentByHost(ctx context.Context, host string) (domain.Deployment, error) {
	var d domain.Deployment
	var pub string
	err := s.onReplica(ctx, func(p *pgxpool.Pool) error {
		return p.QueryRow(ctx, deploymentByHostSQL, host).Scan(&d.ID, &d.Host, &d.Mode,
			&d.IPAllowlistPerWorkspaceEnabled, &d.EnforceMFAPerWorkspaceEnabled, &d.AllowedOrigins, &d.CookieDomain, &pub)
	})
	if err != nil {
		return domain.Deployment{}, notFound(err, "deployment for host %q", host)
	}
	d.PublicKeyPEM = []byte(pub)
	d.AllowedOrigins = nonNil(d.AllowedOrigins)
	return d, nil
}

// SigningKey returns the deployment's PKCS#8 PEM private key.
func (s *Store) SigningKey(ctx context.Context, deploymentID int64) ([]byte, error) {
	var pem string
	err := s.primary.QueryRow(ctx,
		`SELECT private_key_pem FROM deployment_key_pairs WHERE deployment_id = $1`, deploymentID).Scan(&pem)
	if err != nil {
		return nil, notFound(err, "signing key of deployment %d", deploymentID)
	}
	return []byte(pem), nil
}

// sessionSQL reads a session, its active sign-in and the signed-in user's MFA
// state in one statement. The sign-in is joined on its id alone so the caller
// can see one that belongs to another session and refuse it.
const sessionSQL = `
SELECT s.id, s.deployment_id, s.created_at, s.updated_at, s.deleted_at IS NOT NULL, s.pending_token_id,
       si.id, si.session_id, si.user_id, si.expires_at, si.signed_out_at IS NOT NULL,
       u.deleted_at IS NOT NULL,
       u.backup_codes_generated OR EXISTS (
           SELECT 1 FROM user_authenticators a WHERE a.user_id = u.id AND a.deleted_at IS NULL)
FROM sessions s
LEFT JOIN sign_ins si ON si.id = s.active_sign_in_id
LEFT JOIN users u ON u.id = si.user_id
WHERE s.id = $1 AND s.deployment_id = $2`

// Session returns a session of the deployment with its active sign-in. It
// reads the primary: a session just created or revoked counts at once.
func (s *Store) Session(ctx context.Context, deploymentID, sessionID int64) (domain.SessionState, error) {
	var (
		ss                          domain.SessionState
		pending                     *int64
		siID, siSession, siUser     *int64
		siExpires                   *time.Time
		signedOut, userDeleted, mfa *bool
	)
	err := s.primary.QueryRow(ctx, sessionSQL, sessionID, deploymentID).Scan(
		&ss.ID, &ss.DeploymentID, &ss.CreatedAt, &ss.UpdatedAt, &ss.Deleted, &pending,
		&siID, &siSession, &siUser, &siExpires, &signedOut, &userDeleted, &mfa)
	if err != nil {
		return domain.SessionState{}, notFound(err, "session %d", sessionID)
	}
	ss.CreatedAt, ss.UpdatedAt = ss.CreatedAt.UTC(), ss.UpdatedAt.UTC()
	if pending != nil {
		ss.PendingTokenID = *pending
	}
	if siID != nil {
		ss.SignIn = &domain.SignIn{
			ID:          *siID,
			SessionID:   *siSession,
			UserID:      *siUser,
			ExpiresAt:   siExpires.UTC(),
			SignedOut:   *signedOut,
			UserHasMFA:  mfa != nil && *mfa,
			UserDeleted: userDeleted != nil && *userDeleted,
		}
	}
	return ss, nil
}

// membershipsSQL is the whole answer in one statement (one round trip): the
// memberships joined with their workspace, organization and organization
// membership (member counts are columns kept by triggers, migration 0002),
// and, per row, JSON aggregates for segments and workspace roles. One
// statement also means one consistent snapshot without a transaction.
//
// $1 user, $2 deployment, $3 organization or NULL.
const membershipsSQL = `
SELECT wm.id, wm.user_id, wm.organization_id, wm.organization_membership_id,
       wm.public_metadata, wm.created_at, wm.updated_at,
       w.id, w.name, w.image_url, w.description, w.public_metadata,
       w.enforce_2fa, w.enable_ip_restriction, w.whitelisted_ips, w.created_at, w.updated_at,
       w.member_count,
       (SELECT json_agg(json_build_object(
                 'id', sg.id, 'deployment_id', sg.deployment_id, 'name', sg.name, 'type', sg.type,
                 'created_at', sg.created_at, 'updated_at', sg.updated_at) ORDER BY sg.id)
          FROM workspace_segments ws JOIN segments sg ON sg.id = ws.segment_id
         WHERE ws.workspace_id = w.id AND sg.deleted_at IS NULL),
       o.id, o.name, o.image_url, o.description, o.public_metadata,
       o.enforce_mfa, o.enable_ip_restriction, o.whitelisted_ips, o.auto_assigned_workspace_id,
       o.created_at, o.updated_at,
       o.member_count,
       (SELECT json_agg(json_build_object(
                 'id', sg.id, 'deployment_id', sg.deployment_id, 'name', sg.name, 'type', sg.type,
                 'created_at', sg.created_at, 'updated_at', sg.updated_at) ORDER BY sg.id)
          FROM organization_segments os JOIN segments sg ON sg.id = os.segment_id
         WHERE os.organization_id = o.id AND sg.deleted_at IS NULL),
       (SELECT json_agg(json_build_object(
                 'id', r.id, 'name', r.name, 'permissions', r.permissions,
                 'created_at', r.created_at, 'updated_at', r.updated_at) ORDER BY r.id)
          FROM workspace_membership_roles wr JOIN workspace_roles r ON r.id = wr.workspace_role_id
         WHERE wr.workspace_membership_id = wm.id AND r.deleted_at IS NULL),
       (SELECT array_agg(DISTINCT p)
          FROM organization_membership_roles orl
          JOIN organization_roles r ON r.id = orl.organization_role_id, unnest(r.permissions) p
         WHERE orl.organization_membership_id = om.id AND r.deleted_at IS NULL)
FROM workspace_memberships wm
JOIN workspaces w ON w.id = wm.workspace_id AND w.deleted_at IS NULL
JOIN organizations o ON o.id = wm.organization_id AND o.deleted_at IS NULL
JOIN organization_memberships om ON om.id = wm.organization_membership_id AND om.deleted_at IS NULL
WHERE wm.user_id = $1 AND wm.deleted_at IS NULL
  AND w.deployment_id = $2
  AND ($3::bigint IS NULL OR wm.organization_id = $3)
ORDER BY wm.created_at DESC, wm.id DESC`

// jsonSegment and jsonRole are the shapes the JSON aggregates produce;
// PostgreSQL writes timestamptz in JSON as RFC 3339 with microseconds.
type jsonSegment struct {
	ID           int64              `json:"id"`
	DeploymentID int64              `json:"deployment_id"`
	Name         string             `json:"name"`
	Type         domain.SegmentType `json:"type"`
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
}

type jsonRole struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Memberships returns the query's memberships, newest first, in one
// statement on the replica.
func (s *Store) Memberships(ctx context.Context, q domain.MembershipQuery) (out []domain.Membership, err error) {
	err = s.onReplica(ctx, func(p *pgxpool.Pool) error {
		out, err = memberships(ctx, p, q)
		return err
	})
	return out, err
}

func memberships(ctx context.Context, p *pgxpool.Pool, q domain.MembershipQuery) ([]domain.Membership, error) {
	rows, err := p.Query(ctx, membershipsSQL, q.UserID, q.DeploymentID, q.OrganizationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []domain.Membership{}
	for rows.Next() {
		m, err := scanMembership(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func scanMembership(rows pgx.Rows) (domain.Membership, error) {
	var (
		m                   domain.Membership
		w                   = &m.Workspace
		o                   = &m.Organization
		mMeta, wMeta, oMeta []byte
		wSegs, oSegs, roles []byte
	)
	err := rows.Scan(
		&m.ID, &m.UserID, &m.OrganizationID, &m.OrganizationMembershipID, &mMeta, &m.CreatedAt, &m.UpdatedAt,
		&w.ID, &w.Name, &w.ImageURL, &w.Description, &wMeta,
		&w.Enforce2FA, &w.EnableIPRestriction, &w.WhitelistedIPs, &w.CreatedAt, &w.UpdatedAt,
		&w.MemberCount, &wSegs,
		&o.ID, &o.Name, &o.ImageURL, &o.Description, &oMeta,
		&o.EnforceMFA, &o.EnableIPRestriction, &o.WhitelistedIPs, &o.AutoAssignedWorkspaceID, &o.CreatedAt, &o.UpdatedAt,
		&o.MemberCount, &oSegs, &roles, &m.OrganizationPermissions)
	if err != nil {
		return m, err
	}
	w.OrganizationID = m.OrganizationID
	m.PublicMetadata, w.PublicMetadata, o.PublicMetadata = object(mMeta), object(wMeta), object(oMeta)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	w.WhitelistedIPs, o.WhitelistedIPs = nonNil(w.WhitelistedIPs), nonNil(o.WhitelistedIPs)
	if w.Segments, err = decodeSegments(wSegs); err != nil {
		return m, fmt.Errorf("workspace %d segments: %w", w.ID, err)
	}
	if o.Segments, err = decodeSegments(oSegs); err != nil {
		return m, fmt.Errorf("organization %d segments: %w", o.ID, err)
	}
	if m.Roles, err = decodeRoles(roles); err != nil {
		return m, fmt.Errorf("membership %d roles: %w", m.ID, err)
	}
	// Sorted in Go, not by the database's collation, so every store agrees.
	m.OrganizationPermissions = nonNil(m.OrganizationPermissions)
	slices.Sort(m.OrganizationPermissions)
	return m, nil
}

// object returns stored JSON object text as a RawMessage, "{}" when empty.
func object(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return json.RawMessage(b)
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// decodeSegments decodes a JSON aggregate; NULL (no rows) is empty.
func decodeSegments(b []byte) ([]domain.Segment, error) {
	var js []jsonSegment
	if len(b) > 0 {
		if err := json.Unmarshal(b, &js); err != nil {
			return nil, err
		}
	}
	out := make([]domain.Segment, len(js))
	for i, j := range js {
		out[i] = domain.Segment{
			ID: j.ID, DeploymentID: j.DeploymentID, Name: j.Name, Type: j.Type,
			CreatedAt: j.CreatedAt.UTC(), UpdatedAt: j.UpdatedAt.UTC(),
		}
	}
	return out, nil
}

func decodeRoles(b []byte) ([]domain.Role, error) {
	var js []jsonRole
	if len(b) > 0 {
		if err := json.Unmarshal(b, &js); err != nil {
			return nil, err
		}
	}
	out := make([]domain.Role, len(js))
	for i, j := range js {
		out[i] = domain.Role{
			ID: j.ID, Name: j.Name, Permissions: nonNil(j.Permissions),
			CreatedAt: j.CreatedAt.UTC(), UpdatedAt: j.UpdatedAt.UTC(),
		}
	}
	return out, nil
}

// FindUser finds a live user of the deployment by decimal id or by e-mail,
// ignoring case (through the lower(email) index).
func (s *Store) FindUser(ctx context.Context, deploymentID int64, idOrEmail string) (domain.User, error) {
	var row pgx.Row
	if id, err := strconv.ParseInt(idOrEmail, 10, 64); err == nil {
		row = s.primary.QueryRow(ctx, `SELECT id, deployment_id, email FROM users
			WHERE id = $1 AND deployment_id = $2 AND deleted_at IS NULL`, id, deploymentID)
	} else {
		row = s.primary.QueryRow(ctx, `SELECT id, deployment_id, email FROM users
			WHERE lower(email) = lower($1) AND deployment_id = $2 AND deleted_at IS NULL`, idOrEmail, deploymentID)
	}
	var u domain.User
	if err := row.Scan(&u.ID, &u.DeploymentID, &u.Email); err != nil {
		return domain.User{}, notFound(err, "user %q", idOrEmail)
	}
	return u, nil
}

// CreateSession writes a session, its sign-in (made the session's active one)
// and its first rotating token in one transaction on the primary. ErrNotFound
// when the user is not a live user of the deployment; ErrConflict when an id
// is taken.
func (s *Store) CreateSession(ctx context.Context, n domain.NewSession) error {
	return pgx.BeginFunc(ctx, s.primary, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, deployment_id, created_at, updated_at)
			VALUES ($1, $2, $3, $3)`, n.SessionID, n.DeploymentID, n.CreatedAt); err != nil {
			if code(err) == foreignKeyViolation {
				return fmt.Errorf("deployment %d: %w", n.DeploymentID, domain.ErrNotFound)
			}
			return sessionErr("session", n.SessionID, err)
		}
		// Inserting from users checks the user belongs to the deployment.
		tag, err := tx.Exec(ctx, `INSERT INTO sign_ins (id, session_id, user_id, expires_at, created_at, updated_at)
			SELECT $1, $2, id, $3, $4, $4 FROM users WHERE id = $5 AND deployment_id = $6 AND deleted_at IS NULL`,
			n.SignInID, n.SessionID, n.SignInExpiresAt, n.CreatedAt, n.UserID, n.DeploymentID)
		if err != nil {
			return sessionErr("sign-in", n.SignInID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %d of deployment %d: %w", n.UserID, n.DeploymentID, domain.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rotating_tokens (id, session_id, valid_until, created_at)
			VALUES ($1, $2, $3, $4)`, n.RotatingTokenID, n.SessionID, n.TokenValidUntil, n.CreatedAt); err != nil {
			return sessionErr("rotating token", n.RotatingTokenID, err)
		}
		_, err = tx.Exec(ctx, `UPDATE sessions SET active_sign_in_id = $1 WHERE id = $2`, n.SignInID, n.SessionID)
		return err
	})
}

func sessionErr(what string, id int64, err error) error {
	if code(err) == uniqueViolation {
		return fmt.Errorf("%s %d already exists: %w", what, id, domain.ErrConflict)
	}
	return fmt.Errorf("create %s %d: %w", what, id, err)
}

// SQLSTATE codes the store maps to domain errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	checkViolation      = "23514"
	notNullViolation    = "23502"
)

// code is the SQLSTATE of a PostgreSQL error, "" for any other error.
func code(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
