package storage

import (
	"context"
	"time"
)

// CreateSession stores a new SSO session.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
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

// TouchSession records use of a session.
func (s *Store) TouchSession(ctx context.Context, id string, now time.Time) error {
	return translate(s.db.WithContext(ctx).Model(&Session{}).Where("id = ?", id).Update("last_seen_at", now).Error)
}

// RevokeSession ends a session and revokes the tokens issued under it.
func (s *Store) RevokeSession(ctx context.Context, id string, now time.Time) error {
	db := s.db.WithContext(ctx)
	res := db.Model(&Session{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now)
	if res.Error != nil {
		return translate(res.Error)
	}
	for _, m := range []any{&AccessToken{}, &RefreshToken{}} {
		if err := db.Model(m).Where("session_id = ? AND revoked_at IS NULL", id).Update("revoked_at", now).Error; err != nil {
			return translate(err)
		}
	}
	return nil
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
