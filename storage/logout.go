package storage

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Back-channel logout is an outbox: the transaction that ends a session
// also inserts one LogoutDelivery per client to tell, so that no logout is
// lost when the process dies and no client is called while the admin or the
// browser waits. Replicas claim due rows with one conditional UPDATE each.

// endSession revokes one live session inside tx and, when this call is the
// one that ended it, queues its logout deliveries. Sessions already revoked
// queue nothing, so concurrent revocations notify each client once.
func endSession(tx *gorm.DB, id string, now time.Time) error {
	var sess Session
	err := tx.Select("id", "sid", "user_id", "clients", "expires_at").
		Take(&sess, "id = ? AND revoked_at IS NULL", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	} else if err != nil {
		return translate(err)
	}
	res := tx.Model(&Session{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected != 1 || !sess.ExpiresAt.After(now) {
		return nil // someone else ended it, or it had expired: no logout is due
	}
	return enqueueLogouts(tx, &sess, now)
}

// endUserSessions ends, inside tx, every live session of a user.
func endUserSessions(tx *gorm.DB, userID string, now time.Time) error {
	var ids []string
	err := tx.Model(&Session{}).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", userID, now).
		Pluck("id", &ids).Error
	if err != nil {
		return translate(err)
	}
	for _, id := range ids {
		if err := endSession(tx, id, now); err != nil {
			return err
		}
	}
	return nil
}

// enqueueLogouts inserts a delivery for each client of sess that registered
// a back-channel logout URI.
func enqueueLogouts(tx *gorm.DB, sess *Session, now time.Time) error {
	if len(sess.Clients) == 0 {
		return nil
	}
	var clients []string
	err := tx.Model(&Client{}).Where("id IN ? AND backchannel_logout_uri <> ''", []string(sess.Clients)).
		Order("id").Pluck("id", &clients).Error
	if err != nil || len(clients) == 0 {
		return translate(err)
	}
	rows := make([]LogoutDelivery, len(clients))
	for i, c := range clients {
		rows[i] = LogoutDelivery{ID: rand.Text(), ClientID: c, UserID: sess.UserID, SessionID: sess.SID,
			NextAttemptAt: now, CreatedAt: now}
	}
	return translate(tx.Create(&rows).Error)
}

// DueLogoutDeliveries lists up to limit deliveries neither delivered nor
// given up whose next attempt is due at now, oldest first.
func (s *Store) DueLogoutDeliveries(ctx context.Context, now time.Time, limit int) ([]LogoutDelivery, error) {
	var out []LogoutDelivery
	err := s.db.WithContext(ctx).
		Where("delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?", now).
		Order("next_attempt_at, id").Limit(limit).Find(&out).Error
	return out, translate(err)
}

// ClaimLogoutDelivery takes a due delivery for one attempt: it counts the
// attempt and moves the next one to retryAt, in one conditional UPDATE on
// the attempt count the caller saw. ErrAlreadyUsed means another replica
// (or an earlier run) claimed it first. If the caller dies mid-attempt, the
// row is due again at retryAt.
func (s *Store) ClaimLogoutDelivery(ctx context.Context, id string, seenAttempts int, now, retryAt time.Time) error {
	return wantOne(s.db.WithContext(ctx).Model(&LogoutDelivery{}).
		Where("id = ? AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? AND attempts = ?", id, now, seenAttempts).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "next_attempt_at": retryAt}))
}

// FinishLogoutDelivery records the outcome of the attempt the caller
// claimed (attempt is the count after the claim): delivered when lastError
// is empty, otherwise the error, and given up when giveUp is set.
// ErrAlreadyUsed when the row has moved on since.
func (s *Store) FinishLogoutDelivery(ctx context.Context, id string, attempt int, lastError string, giveUp bool, now time.Time) error {
	fields := map[string]any{"last_error": lastError}
	switch {
	case lastError == "":
		fields["delivered_at"] = now
	case giveUp:
		fields["failed_at"] = now
	}
	return wantOne(s.db.WithContext(ctx).Model(&LogoutDelivery{}).
		Where("id = ? AND delivered_at IS NULL AND failed_at IS NULL AND attempts = ?", id, attempt).
		Updates(fields))
}

// LogoutDeliveries lists the deliveries queued for a user's sessions,
// newest first, at most 1000.
func (s *Store) LogoutDeliveries(ctx context.Context, userID string) ([]LogoutDelivery, error) {
	var out []LogoutDelivery
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("created_at DESC, id").Limit(1000).Find(&out).Error
	return out, translate(err)
}

// PurgeLogoutDeliveries deletes up to batch deliveries delivered or given up
// before the cutoff; safe to run on every replica at once.
func (s *Store) PurgeLogoutDeliveries(ctx context.Context, before time.Time, batch int) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM logout_deliveries WHERE id IN (SELECT id FROM logout_deliveries
		WHERE delivered_at < ? OR failed_at < ? LIMIT ?)`, before, before, batch)
	return res.RowsAffected, translate(res.Error)
}
