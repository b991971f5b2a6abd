package domain

import "time"

// TokenRow is what a store reads, inside its refresh transaction, about the
// rotating token a refresh names: only found when the token belongs to the
// session, the session to the deployment, and the session, its active
// sign-in and its user are live at that moment (a cached session state may
// be seconds old).
type TokenRow struct {
	ValidUntil    time.Time // the token's valid_until
	SignInExpires time.Time
	Next          int64 // the successor, 0 while not rotated
	RotatedAt     time.Time
	Pending       int64 // the session's pending_token_id, 0 when none
}

// Decide is what refreshing the token of row does at r.Now, the same for
// every store: rotate a fresh token; join a successor rotated within the
// grace window, or within the pending window and never presented since (the
// client may not have received it); else count reuse. A rotation stamped
// more than r.Skew ahead of r.Now is rejected: clocks disagree.
func (r RefreshRequest) Decide(row TokenRow) RefreshResult {
	now := r.Now.Truncate(time.Microsecond) // stored times have microseconds
	until := row.ValidUntil
	if row.SignInExpires.Before(until) {
		until = row.SignInExpires
	}
	age := now.Sub(row.RotatedAt)
	switch {
	case !now.Before(row.ValidUntil):
		return RefreshResult{Outcome: RefreshRejected}
	case row.Next == 0:
		return RefreshResult{Outcome: RefreshRotated, SuccessorID: r.SuccessorID, ValidUntil: until}
	case age < -r.Skew:
		// Rotated by an instance whose clock runs ahead of this one by more
		// than the skew tolerated: how long ago is unknown, so the windows
		// cannot be judged. Joining could hand a replayed token the
		// successor long after the grace; reuse could sign a user out for
		// an operator's clock. Refuse, changing nothing.
		return RefreshResult{Outcome: RefreshRejected}
	case age <= r.Grace,
		row.Pending == row.Next && age <= r.PendingWindow:
		return RefreshResult{Outcome: RefreshJoined, SuccessorID: row.Next, ValidUntil: until}
	default:
		return RefreshResult{Outcome: RefreshReused}
	}
}
