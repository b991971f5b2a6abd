package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/wachtbench/memberships/internal/domain"
)

// tokenRowSQL reads the token a refresh names, found only while it, its
// session, the session's active sign-in and its user are all live.
const tokenRowSQL = `SELECT t.valid_until, si.expires_at, t.next_token_id, t.rotated_at, s.pending_token_id
	FROM rotating_tokens t
	JOIN sessions s ON s.id = t.session_id
	JOIN sign_ins si ON si.id = s.active_sign_in_id AND si.session_id = s.id
	JOIN users u ON u.id = si.user_id
	WHERE t.id = ? AND t.session_id = ? AND s.deployment_id = ? AND s.deleted_at IS NULL
	  AND si.signed_out_at IS NULL AND si.expires_at > ? AND u.deleted_at IS NULL`

// Refresh implements domain.Store. The write transaction begins IMMEDIATE
// (see connParams), so concurrent refreshes of one token are serialised: the
// first rotates, the others see the link and join it or, past the grace
// window, revoke the session.
func (s *Store) Refresh(ctx context.Context, r domain.RefreshRequest) (domain.RefreshResult, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return domain.RefreshResult{}, err
	}
	defer tx.Rollback()
	now := micros(r.Now)
	var (
		validUntil, expires int64
		next, rotatedAt     sql.NullInt64
		pending             sql.NullInt64
	)
	err = tx.QueryRowContext(ctx, tokenRowSQL, r.TokenID, r.SessionID, r.DeploymentID, now).
		Scan(&validUntil, &expires, &next, &rotatedAt, &pending)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.RefreshResult{Outcome: domain.RefreshRejected}, nil
	}
	if err != nil {
		return domain.RefreshResult{}, err
	}
	res := r.Decide(domain.TokenRow{ValidUntil: fromMicros(validUntil), SignInExpires: fromMicros(expires),
		Next: next.Int64, RotatedAt: fromMicros(rotatedAt.Int64), Pending: pending.Int64})
	switch res.Outcome {
	case domain.RefreshRotated:
		if _, err := tx.ExecContext(ctx, `INSERT INTO rotating_tokens (id, session_id, valid_until, created_at)
			VALUES (?, ?, ?, ?)`, r.SuccessorID, r.SessionID, validUntil, now); err != nil {
			return domain.RefreshResult{}, sessionErr("rotating token", r.SuccessorID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rotating_tokens SET next_token_id = ?, rotated_at = ? WHERE id = ?`,
			r.SuccessorID, now, r.TokenID); err != nil {
			return domain.RefreshResult{}, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET updated_at = ?, pending_token_id = ? WHERE id = ?`,
			now, r.SuccessorID, r.SessionID); err != nil {
			return domain.RefreshResult{}, err
		}
	case domain.RefreshReused:
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET deleted_at = ?, updated_at = ? WHERE id = ?`,
			now, now, r.SessionID); err != nil {
			return domain.RefreshResult{}, err
		}
	default:
		return res, nil
	}
	return res, tx.Commit()
}

// TokenSeen implements domain.Store.
func (s *Store) TokenSeen(ctx context.Context, deploymentID, sessionID, tokenID int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET pending_token_id = NULL
		WHERE id = ? AND deployment_id = ? AND pending_token_id = ?`, sessionID, deploymentID, tokenID)
	return err
}
