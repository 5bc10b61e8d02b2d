package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// CreateSession stores a new SSO session.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	if sess.SID == "" {
		sess.SID = randomID()
	}
	return translate(s.db.WithContext(ctx).Create(sess).Error)
}

// ActiveSession loads a session that is neither expired nor revoked.
func (s *Store) ActiveSession(ctx context.Context, id string, now time.Time) (*Session, error) {
	var sess Session
	err := s.db.WithContext(ctx).Take(&sess, "id = ? AND revoked_at IS NULL AND expires_at > ?", id, now).Error
	if err != nil {
		return nil, translate(err)
	}
	return &sess, nil
}

// LiveSessionBySID loads the live session of a user whose public session id
// (the sid claim, kept across rotation) is sid: a relying party names a
// session by it. ErrNotFound when the user has no such live session.
func (s *Store) LiveSessionBySID(ctx context.Context, userID, sid string, now time.Time) (*Session, error) {
	if sid == "" {
		return nil, ErrNotFound
	}
	var sess Session
	err := s.db.WithContext(ctx).Take(&sess, "user_id = ? AND sid = ? AND revoked_at IS NULL AND expires_at > ?", userID, sid, now).Error
	if err != nil {
		return nil, translate(err)
	}
	return &sess, nil
}

// TouchSession records use of a session.
func (s *Store) TouchSession(ctx context.Context, id string, now time.Time) error {
	return translate(s.db.WithContext(ctx).Model(&Session{}).Where("id = ?", id).Update("last_seen_at", now).Error)
}

// RevokeSession ends a session and revokes the tokens issued under it; in
// the same transaction it queues the back-channel logouts of its clients.
func (s *Store) RevokeSession(ctx context.Context, id string, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		// Tokens before the session, in the order RotateSession locks them.
		for _, m := range []any{&AccessToken{}, &RefreshToken{}} {
			if err := db.Model(m).Where("session_id = ? AND revoked_at IS NULL", id).Update("revoked_at", now).Error; err != nil {
				return translate(err)
			}
		}
		return endSession(db, id, now)
	})
}

// Sessions lists a user's sessions, newest first; all users when userID is empty.
func (s *Store) Sessions(ctx context.Context, userID string, now time.Time) ([]Session, error) {
	q := s.db.WithContext(ctx).Where("revoked_at IS NULL AND expires_at > ?", now).Order("created_at DESC")
	if userID != "" {
		q = q.Where("user_id = ?", userID)
	}
	var out []Session
	return out, translate(q.Limit(1000).Find(&out).Error)
}
