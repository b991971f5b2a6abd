package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wachtbench/memberships/internal/domain"
)

// Refresh implements domain.Store on the primary. The token and its session
// are locked (FOR UPDATE), so concurrent refreshes of one token are
// serialised: the first rotates; the others, woken after its commit, read the
// link and join it or, past the grace window, revoke the session.
func (s *Store) Refresh(ctx context.Context, r domain.RefreshRequest) (domain.RefreshResult, error) {
	// Stored times are microseconds; compare at that precision, as SQLite does.
	now := r.Now.Truncate(time.Microsecond)
	res := domain.RefreshResult{Outcome: domain.RefreshRejected}
	err := pgx.BeginFunc(ctx, s.primary, func(tx pgx.Tx) error {
		var (
			validUntil time.Time
			next       *int64
			rotatedAt  *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT t.valid_until, t.next_token_id, t.rotated_at
			FROM rotating_tokens t JOIN sessions s ON s.id = t.session_id
			WHERE t.id = $1 AND t.session_id = $2 AND s.deployment_id = $3 AND s.deleted_at IS NULL
			FOR UPDATE`, r.TokenID, r.SessionID, r.DeploymentID).Scan(&validUntil, &next, &rotatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case !now.Before(validUntil):
			return nil
		case next == nil:
			if _, err := tx.Exec(ctx, `INSERT INTO rotating_tokens (id, session_id, valid_until, created_at)
				VALUES ($1, $2, $3, $4)`, r.SuccessorID, r.SessionID, validUntil, now); err != nil {
				return sessionErr("rotating token", r.SuccessorID, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE rotating_tokens SET next_token_id = $1, rotated_at = $2 WHERE id = $3`,
				r.SuccessorID, now, r.TokenID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE sessions SET updated_at = $1 WHERE id = $2`, now, r.SessionID); err != nil {
				return err
			}
			res = domain.RefreshResult{Outcome: domain.RefreshRotated, SuccessorID: r.SuccessorID}
		case now.Sub(*rotatedAt) <= r.Grace:
			res = domain.RefreshResult{Outcome: domain.RefreshJoined, SuccessorID: *next}
		default:
			if _, err := tx.Exec(ctx, `UPDATE sessions SET deleted_at = $1, updated_at = $1 WHERE id = $2`,
				now, r.SessionID); err != nil {
				return err
			}
			res = domain.RefreshResult{Outcome: domain.RefreshReused}
		}
		return nil
	})
	if err != nil {
		return domain.RefreshResult{}, err
	}
	return res, nil
}
