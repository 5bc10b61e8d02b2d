package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"
)

// The abuse counters behind login/guard. Every change is one statement, so
// that replicas sharing the database count exactly under any concurrency:
// an UPSERT that increments within the window or restarts it, an UPDATE
// that takes an attempt slot only if nobody else took it.

// AbuseCounter is one fixed-window counter. Key names what is counted
// (callers hash contact data and addresses into it); the window starts at
// the first hit and lasts as long as the caller says.
type AbuseCounter struct {
	Key         string `gorm:"primaryKey"`
	WindowStart time.Time
	Count       int64
	UpdatedAt   time.Time
}

// AccountGuard is one account's consecutive failures (password and every
// second factor together). No row means a clean account. UserID is a
// user's id, or for a username that names no account the key login/guard
// derives from it, so that such a name backs off and locks like an account.
type AccountGuard struct {
	UserID        string `gorm:"primaryKey"`
	Failures      int
	LastFailureAt *time.Time
	// ClaimedAt is when an attempt in the backoff regime took its slot.
	ClaimedAt *time.Time
	LockedAt  *time.Time
}

// CounterHit is a counter's state after a hit or a read.
type CounterHit struct {
	Count       int64
	WindowStart time.Time
}

// HitCounter adds one to key within a window of the given length started
// at its first hit, or restarts the count at 1 when that window has passed,
// and returns the new state. Parallel hits each see a different count.
func (s *Store) HitCounter(ctx context.Context, key string, window time.Duration, now time.Time) (CounterHit, error) {
	var h CounterHit
	row := s.db.WithContext(ctx).Raw(`INSERT INTO abuse_counters (key, window_start, count, updated_at)
		VALUES (?, ?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN abuse_counters.window_start <= ? THEN 1 ELSE abuse_counters.count + 1 END,
			window_start = CASE WHEN abuse_counters.window_start <= ? THEN excluded.window_start ELSE abuse_counters.window_start END,
			updated_at = excluded.updated_at
		RETURNING count, window_start`, key, now, now, now.Add(-window), now.Add(-window)).Row()
	if err := row.Scan(&h.Count, &h.WindowStart); err != nil {
		return h, translate(err)
	}
	return h, nil
}

// Counter reads key without changing it; the count is 0 when the key was
// never hit or its window has passed.
func (s *Store) Counter(ctx context.Context, key string, window time.Duration, now time.Time) (CounterHit, error) {
	var c AbuseCounter
	err := s.db.WithContext(ctx).Where("key = ?", key).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !c.WindowStart.After(now.Add(-window))) {
		return CounterHit{}, nil
	}
	if err != nil {
		return CounterHit{}, translate(err)
	}
	return CounterHit{Count: c.Count, WindowStart: c.WindowStart}, nil
}

// UndoHit takes back one hit of the window that started at windowStart (a
// hit that turned out not to be used); it does nothing once that window
// has been restarted.
func (s *Store) UndoHit(ctx context.Context, key string, windowStart time.Time) error {
	return translate(s.db.WithContext(ctx).Exec(
		"UPDATE abuse_counters SET count = count - 1 WHERE key = ? AND window_start = ? AND count > 0",
		key, windowStart).Error)
}

// PurgeCounters deletes at most batch counters whose window started before
// before, and reports how many it deleted.
func (s *Store) PurgeCounters(ctx context.Context, before time.Time, batch int) (int64, error) {
	res := s.db.WithContext(ctx).Exec(
		"DELETE FROM abuse_counters WHERE key IN (SELECT key FROM abuse_counters WHERE window_start < ? LIMIT ?)",
		before, batch)
	return res.RowsAffected, translate(res.Error)
}

// AccountFailure counts one failure for userID and locks the account when
// the count reaches lockAt. It returns the new count and the lock time;
// exactly one of parallel callers sees the count equal lockAt.
func (s *Store) AccountFailure(ctx context.Context, userID string, lockAt int, now time.Time) (failures int, lockedAt *time.Time, err error) {
	var lockNow *time.Time
	if lockAt <= 1 {
		lockNow = &now
	}
	var locked sql.NullTime
	row := s.db.WithContext(ctx).Raw(`INSERT INTO account_guards (user_id, failures, last_failure_at, locked_at)
		VALUES (?, 1, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET
			failures = account_guards.failures + 1,
			last_failure_at = excluded.last_failure_at,
			locked_at = CASE WHEN account_guards.locked_at IS NULL AND account_guards.failures + 1 >= ?
				THEN excluded.last_failure_at ELSE account_guards.locked_at END
		RETURNING failures, locked_at`, userID, now, lockNow, lockAt).Row()
	if err := row.Scan(&failures, &locked); err != nil {
		return 0, nil, translate(err)
	}
	if locked.Valid {
		lockedAt = &locked.Time
	}
	return failures, lockedAt, nil
}

// AccountGuard returns the failure record of userID, or ErrNotFound for a
// clean account.
func (s *Store) AccountGuard(ctx context.Context, userID string) (*AccountGuard, error) {
	return rememberOne(ctx, "account_guards", userID, func() (*AccountGuard, error) {
		var g AccountGuard
		if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Take(&g).Error; err != nil {
			return nil, translate(err)
		}
		return &g, nil
	})
}

// ClaimAccountAttempt takes the attempt slot of an account in backoff: it
// succeeds only if the account is unlocked, still has failures failures,
// failed last at or before slotOpen, and holds no claim newer than its last
// failure and newer than leaseStart. Of parallel callers exactly one wins;
// the others get ErrAlreadyUsed.
func (s *Store) ClaimAccountAttempt(ctx context.Context, userID string, failures int, slotOpen, leaseStart, now time.Time) error {
	return wantOne(s.db.WithContext(ctx).Exec(`UPDATE account_guards SET claimed_at = ?
		WHERE user_id = ? AND locked_at IS NULL AND failures = ? AND last_failure_at <= ?
			AND (claimed_at IS NULL OR claimed_at <= last_failure_at OR claimed_at <= ?)`,
		now, userID, failures, slotOpen, leaseStart))
}

// ReleaseAccountAttempt gives back the attempt slot of an account in
// backoff: the claim goes, the failures stay, so the next attempt may take
// the slot at once. It is not an error when there is no claim.
func (s *Store) ReleaseAccountAttempt(ctx context.Context, userID string) error {
	return translate(s.db.WithContext(ctx).Model(&AccountGuard{}).
		Where("user_id = ? AND claimed_at IS NOT NULL", userID).Update("claimed_at", nil).Error)
}

// ResetAccountGuard clears the failures of userID after a successful
// sign-in. It leaves a lock in place: a success that raced the locking
// failure does not undo it.
func (s *Store) ResetAccountGuard(ctx context.Context, userID string) error {
	return translate(s.db.WithContext(ctx).Exec(
		"DELETE FROM account_guards WHERE user_id = ? AND locked_at IS NULL", userID).Error)
}

// UnlockAccount clears the failures and the lock of userID (an admin
// action); it is not an error when there is nothing to clear.
func (s *Store) UnlockAccount(ctx context.Context, userID string) error {
	return translate(s.db.WithContext(ctx).Exec("DELETE FROM account_guards WHERE user_id = ?", userID).Error)
}
