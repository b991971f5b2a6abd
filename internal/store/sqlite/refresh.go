package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/wachtbench/memberships/internal/domain"
)

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
		validUntil int64
		next       sql.NullInt64
		rotatedAt  sql.NullInt64
	)
	err = tx.QueryRowContext(ctx, `SELECT t.valid_until, t.next_token_id, t.rotated_at
		FROM rotating_tokens t JOIN sessions s ON s.id = t.session_id
		WHERE t.id = ? AND t.session_id = ? AND s.deployment_id = ? AND s.deleted_at IS NULL`,
		r.TokenID, r.SessionID, r.DeploymentID).Scan(&validUntil, &next, &rotatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.RefreshResult{Outcome: domain.RefreshRejected}, nil
	}
	if err != nil {
		return domain.RefreshResult{}, err
	}
	var res domain.RefreshResult
	switch {
	case now >= validUntil:
		return domain.RefreshResult{Outcome: domain.RefreshRejected}, nil
	case !next.Valid:
		if _, err := tx.ExecContext(ctx, `INSERT INTO rotating_tokens (id, session_id, valid_until, created_at)
			VALUES (?, ?, ?, ?)`, r.SuccessorID, r.SessionID, validUntil, now); err != nil {
			return domain.RefreshResult{}, sessionErr("rotating token", r.SuccessorID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rotating_tokens SET next_token_id = ?, rotated_at = ? WHERE id = ?`,
			r.SuccessorID, now, r.TokenID); err != nil {
			return domain.RefreshResult{}, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET updated_at = ? WHERE id = ?`, now, r.SessionID); err != nil {
			return domain.RefreshResult{}, err
		}
		res = domain.RefreshResult{Outcome: domain.RefreshRotated, SuccessorID: r.SuccessorID}
	case now-rotatedAt.Int64 <= r.Grace.Microseconds():
		return domain.RefreshResult{Outcome: domain.RefreshJoined, SuccessorID: next.Int64}, nil
	default:
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET deleted_at = ?, updated_at = ? WHERE id = ?`,
			now, now, r.SessionID); err != nil {
			return domain.RefreshResult{}, err
		}
		res = domain.RefreshResult{Outcome: domain.RefreshReused}
	}
	return res, tx.Commit()
}
