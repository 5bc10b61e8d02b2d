package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// RotateSession replaces a user's session by next (a new cookie id after a
// new sign-in, against fixation) without ending what hangs on it: the
// clients and the tokens issued under the old id move to the new one, so
// a later logout still reaches them. It returns ErrNotFound when old is
// not a live session of next's user.
func (s *Store) RotateSession(ctx context.Context, oldID string, next *Session, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old Session
		err := tx.Take(&old, "id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?", oldID, next.UserID, now).Error
		if err != nil {
			return translate(err)
		}
		next.SID = old.SID
		if next.SID == "" {
			next.SID = old.ID
		}
		for _, c := range old.Clients {
			if !next.Clients.Contains(c) {
				next.Clients = append(next.Clients, c)
			}
		}
		if err := tx.Create(next).Error; err != nil {
			return translate(err)
		}
		for _, m := range []any{&AccessToken{}, &RefreshToken{}} {
			if err := tx.Model(m).Where("session_id = ?", oldID).Update("session_id", next.ID).Error; err != nil {
				return translate(err)
			}
		}
		// Conditional, so that of concurrent rotations of one session only
		// the first commits: the others find it revoked and roll back their
		// new session. (A lock on the first read would invert the
		// tokens-then-session order RevokeSession relies on.)
		res := tx.Model(&Session{}).Where("id = ? AND revoked_at IS NULL", oldID).Update("revoked_at", now)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrNotFound
		}
		return nil
	})
}
