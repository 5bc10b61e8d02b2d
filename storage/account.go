package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// What the self-service account pages change: a user ending one of their
// own sessions, and a password change that ends every other session.

// EndUserSession ends one live session of a user, revokes the tokens issued
// under it and queues its back-channel logouts. ErrNotFound when the
// session is not a live session of that user (someone else's stays alive).
func (s *Store) EndUserSession(ctx context.Context, userID, sessionID string, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		err := tx.Model(&Session{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?", sessionID, userID, now).Count(&n).Error
		if err != nil {
			return translate(err)
		}
		if n == 0 {
			return ErrNotFound
		}
		return endSessionAndTokens(tx, sessionID, now)
	})
}

// ChangePassword sets a user's password hash and, in the same transaction,
// ends every other session of the user with its tokens (and any token not
// issued under keepSessionID), so a stolen session or token dies with the
// old password while the browser that changed it stays signed in.
func (s *Store) ChangePassword(ctx context.Context, userID, hash, keepSessionID string, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{"password_hash": hash, "updated_at": now})
		if err := wantOne(res); err != nil {
			return ErrNotFound
		}
		// Tokens before sessions, in the order RotateSession locks them.
		for _, m := range []any{&AccessToken{}, &RefreshToken{}} {
			err := tx.Model(m).Where("user_id = ? AND session_id <> ? AND revoked_at IS NULL", userID, keepSessionID).Update("revoked_at", now).Error
			if err != nil {
				return translate(err)
			}
		}
		var ids []string
		err := tx.Model(&Session{}).Where("user_id = ? AND id <> ? AND revoked_at IS NULL", userID, keepSessionID).Pluck("id", &ids).Error
		if err != nil {
			return translate(err)
		}
		for _, id := range ids {
			if err := endSession(tx, id, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// endSessionAndTokens revokes the tokens issued under a session and ends
// it inside tx (queuing its back-channel logouts once): tokens first, in
// the order RotateSession locks them.
func endSessionAndTokens(tx *gorm.DB, id string, now time.Time) error {
	for _, m := range []any{&AccessToken{}, &RefreshToken{}} {
		if err := tx.Model(m).Where("session_id = ? AND revoked_at IS NULL", id).Update("revoked_at", now).Error; err != nil {
			return translate(err)
		}
	}
	return endSession(tx, id, now)
}

// RehashPassword replaces a user's password hash by a stronger hash of the
// same password, only while the stored hash is still oldHash: a password
// changed meanwhile (by the user or an admin) is never overwritten by the
// old one. Nothing else changes: no session ends, updated_at stays.
// ErrAlreadyUsed when the hash was no longer oldHash (or the user is gone).
func (s *Store) RehashPassword(ctx context.Context, userID, oldHash, newHash string) error {
	return wantOne(s.db.WithContext(ctx).Model(&User{}).
		Where("id = ? AND password_hash = ?", userID, oldHash).UpdateColumn("password_hash", newHash))
}
