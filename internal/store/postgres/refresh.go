package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wachtbench/memberships/internal/domain"
)

// tokenRowSQL reads and locks the token a refresh names, found only while
// it, its session, the session's active sign-in and its user are all live.
const tokenRowSQL = `SELECT t.valid_until, si.expires_at, t.next_token_id, t.rotated_at, s.pending_token_id
	FROM rotating_tokens t
	JOIN sessions s ON s.id = t.session_id
	JOIN sign_ins si ON si.id = s.active_sign_in_id AND si.session_id = s.id
	JOIN users u ON u.id = si.user_id
	WHERE t.id = $1 AND t.session_id = $2 AND s.deployment_id = $3 AND s.deleted_at IS NULL
	  AND si.signed_out_at IS NULL AND si.expires_at > $4 AND u.deleted_at IS NULL
	FOR UPDATE OF t, s`

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
			row           domain.TokenRow
			next, pending *int64
			rotatedAt     *time.Time
		)
		err := tx.QueryRow(ctx, tokenRowSQL, r.TokenID, r.SessionID, r.DeploymentID, now).
			Scan(&row.ValidUntil, &row.SignInExpires, &next, &rotatedAt, &pending)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if next != nil {
			row.Next, row.RotatedAt = *next, *rotatedAt
		}
		if pending != nil {
			row.Pending = *pending
		}
		res = r.Decide(row)
		switch res.Outcome {
		case domain.RefreshRotated:
			if _, err := tx.Exec(ctx, `INSERT INTO rotating_tokens (id, session_id, valid_until, created_at)
				VALUES ($1, $2, $3, $4)`, r.SuccessorID, r.SessionID, row.ValidUntil, now); err != nil {
				return sessionErr("rotating token", r.SuccessorID, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE rotating_tokens SET next_token_id = $1, rotated_at = $2 WHERE id = $3`,
				r.SuccessorID, now, r.TokenID); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE sessions SET updated_at = $1, pending_token_id = $2 WHERE id = $3`,
				now, r.SuccessorID, r.SessionID)
			return err
		case domain.RefreshReused:
			_, err = tx.Exec(ctx, `UPDATE sessions SET deleted_at = $1, updated_at = $1 WHERE id = $2`, now, r.SessionID)
			return err
		}
		return nil
	})
	if err != nil {
		return domain.RefreshResult{}, err
	}
	res.ValidUntil = res.ValidUntil.UTC()
	return res, nil
}

// TokenSeen implements domain.Store on the primary.
func (s *Store) TokenSeen(ctx context.Context, deploymentID, sessionID, tokenID int64) error {
	_, err := s.primary.Exec(ctx, `UPDATE sessions SET pending_token_id = NULL
		WHERE id = $1 AND deployment_id = $2 AND pending_token_id = $3`, sessionID, deploymentID, tokenID)
	return err
}
