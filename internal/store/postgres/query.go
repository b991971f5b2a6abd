package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/fragment"
)

const deploymentByHostSQL = `
SELECT d.id, d.host, d.mode, d.ip_allowlist_per_workspace_enabled, d.enforce_mfa_per_workspace_enabled,
       d.allowed_origins, d.cookie_domain, k.public_key_pem
FROM deployment_hosts h
JOIN deployments d ON d.id = h.deployment_id AND d.deleted_at IS NULL
JOIN deployment_key_pairs k ON k.deployment_id = d.id
WHERE h.host = $1`

// DeploymentByHost finds the live deployment answering on host, on the
// primary: its public key verifies tokens whose successors the primary's
// private key signs (SigningKey), so both halves come from the same place,
// and a rotated key counts at once, however far a replica lags.
func (s *Store) DeploymentByHost(ctx context.Context, host string) (domain.Deployment, error) {
	var d domain.Deployment
	var pub string
	err := s.primary.QueryRow(ctx, deploymentByHostSQL, host).Scan(&d.ID, &d.Host, &d.Mode,
		&d.IPAllowlistPerWorkspaceEnabled, &d.EnforceMFAPerWorkspaceEnabled, &d.AllowedOrigins, &d.CookieDomain, &pub)
	if err != nil {
		return domain.Deployment{}, notFound(err, "deployment for host %q", host)
	}
	d.PublicKeyPEM = []byte(pub)
	d.AllowedOrigins = nonNil(d.AllowedOrigins)
	return d, nil
}

// SigningKey returns the deployment's PKCS#8 PEM private key, on the primary.
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
// can see one that belongs to another session and refuse it; a user deleted
// outright (no row) reads as deleted, so the session is signed out.
const sessionSQL = `
SELECT s.id, s.deployment_id, s.created_at, s.updated_at, s.deleted_at IS NOT NULL, s.pending_token_id,
       si.id, si.session_id, si.user_id, si.expires_at, si.signed_out_at IS NOT NULL,
       u.id IS NULL OR u.deleted_at IS NOT NULL,
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

// fragmentSQL is the fragment path's SQL (internal/store/fragment), side by side
// with SQLite's in ../sqlite/query.go: the same columns, lists as JSON
// text, times as timestamptz that each connection scans into unix
// microseconds (micros.go; inside JSON, micros() of migration 0003), so one
// decoder reads both. The organization membership's liveness and
// permissions are on the membership row (0009), as on SQLite.
var fragmentSQL = fragment.Dialect{
	// $1 user, $2 deployment, $3 organization or NULL.
	Memberships: `
SELECT wm.id, wm.public_metadata::text, wm.created_at, wm.updated_at,
       w.id, w.version, o.id, o.version, wm.role_refs, wm.organization_permissions,
       (SELECT coalesce(max(seq), 0) FROM answer_changes)
FROM workspace_memberships wm
JOIN workspaces w ON w.id = wm.workspace_id AND w.deleted_at IS NULL
JOIN organizations o ON o.id = wm.organization_id AND o.deleted_at IS NULL
WHERE wm.user_id = $1 AND wm.deleted_at IS NULL AND wm.organization_membership_live
  AND w.deployment_id = $2
  AND ($3::bigint IS NULL OR wm.organization_id = $3)
ORDER BY wm.created_at DESC, wm.id DESC`,

	Workspaces: `
SELECT w.id, w.version, w.organization_id, w.name, w.image_url, w.description, w.public_metadata::text,
       w.enforce_2fa, w.enable_ip_restriction, to_json(w.whitelisted_ips)::text,
       w.created_at, w.updated_at, w.member_count,
       (SELECT ` + segmentsJSON + `
          FROM workspace_segments ws JOIN segments sg ON sg.id = ws.segment_id
         WHERE ws.workspace_id = w.id AND sg.deleted_at IS NULL)
FROM workspaces w WHERE w.id = ANY($1)`,

	Organizations: `
SELECT o.id, o.version, o.name, o.image_url, o.description, o.public_metadata::text,
       o.enforce_mfa, o.enable_ip_restriction, to_json(o.whitelisted_ips)::text, o.auto_assigned_workspace_id,
       o.created_at, o.updated_at, o.member_count,
       (SELECT ` + segmentsJSON + `
          FROM organization_segments os JOIN segments sg ON sg.id = os.segment_id
         WHERE os.organization_id = o.id AND sg.deleted_at IS NULL)
FROM organizations o WHERE o.id = ANY($1)`,

	Roles: `
SELECT r.id, r.version, r.name, to_json(r.permissions)::text, r.created_at, r.updated_at
FROM workspace_roles r WHERE r.id = ANY($1)`,

	// A bigint[]: one parameter, whatever the number of ids.
	IDs: func(ids []int64) any { return ids },
}

// segmentsJSON aggregates the live segments sg of a workspace or an
// organization, by id, as fragment.decodeSegments reads them.
const segmentsJSON = `json_agg(json_build_object(
                 'id', sg.id, 'deployment_id', sg.deployment_id, 'name', sg.name, 'type', sg.type,
                 'created_at', micros(sg.created_at), 'updated_at', micros(sg.updated_at)) ORDER BY sg.id)::text`

// Memberships returns the query's memberships, newest first, read where
// request-path reads go (the replica while it answers, onReplica): one
// statement on warm fragment caches. The whole read is retried on the
// primary when the replica goes away, whichever of its statements or rows
// it was reading.
func (s *Store) Memberships(ctx context.Context, q domain.MembershipQuery) (out []domain.Membership, err error) {
	err = s.onReplica(ctx, func(p *pgxpool.Pool) (err error) {
		out, err = s.fragments.Memberships(ctx, fragment.Source{Dialect: fragmentSQL, Query: query(p)}, q)
		return err
	})
	return out, err
}

// query runs the fragment path's statements on p.
func query(p *pgxpool.Pool) fragment.Query {
	return func(ctx context.Context, query string, args []any, row func(fragment.Scanner) error) error {
		rows, err := p.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
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

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// changesSQL reads the change feed from $1 on (the newest row alone for 0).
const changesSQL = `SELECT seq, kind, id FROM answer_changes
WHERE seq >= CASE WHEN $1::bigint = 0 THEN (SELECT max(seq) FROM answer_changes) ELSE $1::bigint END
ORDER BY seq, kind, id LIMIT $2`

// Changes reads the change feed where Memberships reads: one statement, an
// index range.
func (s *Store) Changes(ctx context.Context, since int64, limit int) (out []domain.Change, err error) {
	err = s.onReplica(ctx, func(p *pgxpool.Pool) error {
		rows, err := p.Query(ctx, changesSQL, since, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = out[:0]
		for rows.Next() {
			var c domain.Change
			var kind int16
			if err := rows.Scan(&c.Seq, &kind, &c.ID); err != nil {
				return err
			}
			c.Kind = domain.ChangeKind(kind)
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}
