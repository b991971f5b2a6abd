package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/fragment"
)

// micros is how times are stored: UTC unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

const deploymentByHostSQL = `
SELECT d.id, d.host, d.mode, d.ip_allowlist_per_workspace_enabled, d.enforce_mfa_per_workspace_enabled, d.allowed_origins, d.cookie_domain, k.public_key_pem
FROM deployment_hosts h
JOIN deployments d ON d.id = h.deployment_id AND d.deleted_at IS NULL
JOIN deployment_key_pairs k ON k.deployment_id = d.id
WHERE h.host = ?`

// DeploymentByHost finds the live deployment answering on host.
func (s *Store) DeploymentByHost(ctx context.Context, host string) (domain.Deployment, error) {
	st, err := s.prepared(ctx, deploymentByHostSQL)
	if err != nil {
		return domain.Deployment{}, err
	}
	var d domain.Deployment
	var pub string
	var origins []byte
	err = st.QueryRowContext(ctx, host).Scan(&d.ID, &d.Host, &d.Mode, &d.IPAllowlistPerWorkspaceEnabled, &d.EnforceMFAPerWorkspaceEnabled, &origins, &d.CookieDomain, &pub)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Deployment{}, fmt.Errorf("deployment for host %q: %w", host, domain.ErrNotFound)
	}
	if err != nil {
		return domain.Deployment{}, err
	}
	d.PublicKeyPEM = []byte(pub)
	if d.AllowedOrigins, err = fragment.Strings(origins); err != nil {
		return domain.Deployment{}, fmt.Errorf("deployment %d allowed_origins: %w", d.ID, err)
	}
	return d, nil
}

// SigningKey returns the deployment's PKCS#8 PEM private key.
func (s *Store) SigningKey(ctx context.Context, deploymentID int64) ([]byte, error) {
	var pem string
	err := s.db.QueryRowContext(ctx,
		`SELECT private_key_pem FROM deployment_key_pairs WHERE deployment_id = ?`, deploymentID).Scan(&pem)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("signing key of deployment %d: %w", deploymentID, domain.ErrNotFound)
	}
	if err != nil {
		return nil, err
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
       u.backup_codes_generated = 1 OR EXISTS (
           SELECT 1 FROM user_authenticators a WHERE a.user_id = u.id AND a.deleted_at IS NULL)
FROM sessions s
LEFT JOIN sign_ins si ON si.id = s.active_sign_in_id
LEFT JOIN users u ON u.id = si.user_id
WHERE s.id = ? AND s.deployment_id = ?`

// Session returns a session of the deployment with its active sign-in.
func (s *Store) Session(ctx context.Context, deploymentID, sessionID int64) (domain.SessionState, error) {
	st, err := s.prepared(ctx, sessionSQL)
	if err != nil {
		return domain.SessionState{}, err
	}
	var (
		ss                          domain.SessionState
		created, updated            int64
		pending                     sql.NullInt64
		siID, siSession, siUser     sql.NullInt64
		siExpires                   sql.NullInt64
		signedOut, userDeleted, mfa sql.NullBool
	)
	err = st.QueryRowContext(ctx, sessionID, deploymentID).Scan(
		&ss.ID, &ss.DeploymentID, &created, &updated, &ss.Deleted, &pending,
		&siID, &siSession, &siUser, &siExpires, &signedOut, &userDeleted, &mfa)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.SessionState{}, fmt.Errorf("session %d: %w", sessionID, domain.ErrNotFound)
	}
	if err != nil {
		return domain.SessionState{}, err
	}
	ss.CreatedAt, ss.UpdatedAt, ss.PendingTokenID = fromMicros(created), fromMicros(updated), pending.Int64
	if siID.Valid {
		ss.SignIn = &domain.SignIn{
			ID:          siID.Int64,
			SessionID:   siSession.Int64,
			UserID:      siUser.Int64,
			ExpiresAt:   fromMicros(siExpires.Int64),
			SignedOut:   signedOut.Bool,
			UserHasMFA:  mfa.Bool,
			UserDeleted: userDeleted.Bool,
		}
	}
	return ss, nil
}

// fragmentSQL is the fragment path's SQL (internal/store/fragment), side by side
// with PostgreSQL's in ../postgres/query.go. The memberships statement reads
// only each membership's own fields and the ids and versions of what it
// points at, and the organization permissions eligibility needs; all of them
// columns kept by triggers (migrations 0003 and 0007: the organization
// membership's liveness and permissions are on the row, so SQLite looks up
// two rows per membership, not three).
var fragmentSQL = fragment.Dialect{
	// ?1 user, ?2 deployment, ?3 organization or NULL.
	Memberships: `
SELECT wm.id, wm.public_metadata, wm.created_at, wm.updated_at,
       w.id, w.version, o.id, o.version, wm.role_refs, wm.organization_permissions,
       (SELECT coalesce(max(seq), 0) FROM answer_changes)
FROM workspace_memberships wm
JOIN workspaces w ON w.id = wm.workspace_id AND w.deleted_at IS NULL
JOIN organizations o ON o.id = wm.organization_id AND o.deleted_at IS NULL
WHERE wm.user_id = ?1 AND wm.deleted_at IS NULL AND wm.organization_membership_live
  AND w.deployment_id = ?2
  AND (?3 IS NULL OR wm.organization_id = ?3)
ORDER BY wm.created_at DESC, wm.id DESC`,

	Workspaces: `
SELECT w.id, w.version, w.organization_id, w.name, w.image_url, w.description, w.public_metadata,
       w.enforce_2fa, w.enable_ip_restriction, w.whitelisted_ips, w.created_at, w.updated_at, w.member_count,
       (SELECT ` + segmentsJSON + `
          FROM workspace_segments ws JOIN segments sg ON sg.id = ws.segment_id
         WHERE ws.workspace_id = w.id AND sg.deleted_at IS NULL)
FROM workspaces w WHERE w.id IN (SELECT value FROM json_each(?1))`,

	Organizations: `
SELECT o.id, o.version, o.name, o.image_url, o.description, o.public_metadata,
       o.enforce_mfa, o.enable_ip_restriction, o.whitelisted_ips, o.auto_assigned_workspace_id,
       o.created_at, o.updated_at, o.member_count,
       (SELECT ` + segmentsJSON + `
          FROM organization_segments os JOIN segments sg ON sg.id = os.segment_id
         WHERE os.organization_id = o.id AND sg.deleted_at IS NULL)
FROM organizations o WHERE o.id IN (SELECT value FROM json_each(?1))`,

	Roles: `
SELECT r.id, r.version, r.name, r.permissions, r.created_at, r.updated_at
FROM workspace_roles r WHERE r.id IN (SELECT value FROM json_each(?1))`,

	// A JSON array: one text parameter, whatever the number of ids.
	IDs: func(ids []int64) any {
		b := append(make([]byte, 0, 20*len(ids)+2), '[')
		for i, id := range ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		return string(append(b, ']'))
	},
}

// segmentsJSON aggregates the live segments sg of a workspace or an
// organization, by id, as fragment.decodeSegments reads them.
const segmentsJSON = `json_group_array(json_object(
                 'id', sg.id, 'deployment_id', sg.deployment_id, 'name', sg.name, 'type', sg.type,
                 'created_at', sg.created_at, 'updated_at', sg.updated_at) ORDER BY sg.id)`

// Memberships returns the query's memberships, newest first: one statement
// on warm fragment caches.
func (s *Store) Memberships(ctx context.Context, q domain.MembershipQuery) ([]domain.Membership, error) {
	return s.fragments.Memberships(ctx, fragment.Source{Dialect: fragmentSQL, Query: s.query}, q)
}

// query runs a statement of the fragment path on a connection of the pool,
// below database/sql: its Scan converts each column through interfaces and
// reflection, which at a hundred rows of eleven columns cost more than
// SQLite reading them (rows.go). Unlike sql.Stmt it does not retry on
// driver.ErrBadConn: modernc returns that only from ResetSession, which
// db.Conn already retries.
func (s *Store) query(ctx context.Context, query string, args []any, row func(fragment.Scanner) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return dc.(*countingConn).each(ctx, query, args, row) })
}

// FindUser finds a live user of the deployment by decimal id or by e-mail,
// ignoring case.
func (s *Store) FindUser(ctx context.Context, deploymentID int64, idOrEmail string) (domain.User, error) {
	var row *sql.Row
	if id, err := strconv.ParseInt(idOrEmail, 10, 64); err == nil {
		row = s.db.QueryRowContext(ctx, `SELECT id, deployment_id, email FROM users
			WHERE id = ? AND deployment_id = ? AND deleted_at IS NULL`, id, deploymentID)
	} else {
		// The email column is COLLATE NOCASE, so = ignores case and uses the
		// (deployment_id, email) index.
		row = s.db.QueryRowContext(ctx, `SELECT id, deployment_id, email FROM users
			WHERE email = ? AND deployment_id = ? AND deleted_at IS NULL`, idOrEmail, deploymentID)
	}
	var u domain.User
	err := row.Scan(&u.ID, &u.DeploymentID, &u.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.User{}, fmt.Errorf("user %q: %w", idOrEmail, domain.ErrNotFound)
	}
	return u, err
}

// CreateSession writes a session, its sign-in (made the session's active one)
// and its first rotating token in one transaction. ErrNotFound when the user
// is not a live user of the deployment; ErrConflict when an id is taken.
func (s *Store) CreateSession(ctx context.Context, n domain.NewSession) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	created := micros(n.CreatedAt)
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, deployment_id, created_at, updated_at)
		VALUES (?, ?, ?, ?)`, n.SessionID, n.DeploymentID, created, created); err != nil {
		if isForeignKey(err) {
			return fmt.Errorf("deployment %d: %w", n.DeploymentID, domain.ErrNotFound)
		}
		return sessionErr("session", n.SessionID, err)
	}
	// Inserting from users checks the user belongs to the deployment.
	res, err := tx.ExecContext(ctx, `INSERT INTO sign_ins (id, session_id, user_id, expires_at, created_at, updated_at)
		SELECT ?, ?, id, ?, ?, ? FROM users WHERE id = ? AND deployment_id = ? AND deleted_at IS NULL`,
		n.SignInID, n.SessionID, micros(n.SignInExpiresAt), created, created, n.UserID, n.DeploymentID)
	if err != nil {
		return sessionErr("sign-in", n.SignInID, err)
	}
	if k, err := res.RowsAffected(); err != nil {
		return err
	} else if k == 0 {
		return fmt.Errorf("user %d of deployment %d: %w", n.UserID, n.DeploymentID, domain.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO rotating_tokens (id, session_id, valid_until, created_at)
		VALUES (?, ?, ?, ?)`, n.RotatingTokenID, n.SessionID, micros(n.TokenValidUntil), created); err != nil {
		return sessionErr("rotating token", n.RotatingTokenID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET active_sign_in_id = ? WHERE id = ?`,
		n.SignInID, n.SessionID); err != nil {
		return err
	}
	return tx.Commit()
}

func sessionErr(what string, id int64, err error) error {
	if isUnique(err) {
		return fmt.Errorf("%s %d already exists: %w", what, id, domain.ErrConflict)
	}
	return fmt.Errorf("create %s %d: %w", what, id, err)
}

// changesSQL reads the change feed from ?1 on (the newest row alone for 0).
const changesSQL = `SELECT seq, kind, id FROM answer_changes
WHERE seq >= CASE WHEN ?1 = 0 THEN (SELECT max(seq) FROM answer_changes) ELSE ?1 END
ORDER BY seq, kind, id LIMIT ?2`

// Changes reads the change feed: one statement, an index range.
func (s *Store) Changes(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	st, err := s.prepared(ctx, changesSQL)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, since, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanChanges(rows)
}

func scanChanges(rows *sql.Rows) ([]domain.Change, error) {
	var out []domain.Change
	for rows.Next() {
		var c domain.Change
		if err := rows.Scan(&c.Seq, &c.Kind, &c.ID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
