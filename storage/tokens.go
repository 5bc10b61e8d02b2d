package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// CreateAccessToken records an issued access token.
func (s *Store) CreateAccessToken(ctx context.Context, t *AccessToken) error {
	return translate(s.db.WithContext(ctx).Create(t).Error)
}

// ActiveAccessToken loads an access token that is neither expired nor
// revoked, nor from a session that has ended.
func (s *Store) ActiveAccessToken(ctx context.Context, id string, now time.Time) (*AccessToken, error) {
	if !ValidText(id) {
		return nil, ErrNotFound
	}
	var t AccessToken
	err := s.db.WithContext(ctx).Take(&t, "id = ? AND revoked_at IS NULL AND expires_at > ?", id, now).Error
	if err != nil {
		return nil, translate(err)
	}
	return &t, nil
}

// RevokeAccessToken revokes one access token of a client.
func (s *Store) RevokeAccessToken(ctx context.Context, id, clientID string, now time.Time) error {
	return translate(s.db.WithContext(ctx).Model(&AccessToken{}).
		Where("id = ? AND client_id = ? AND revoked_at IS NULL", id, clientID).
		Update("revoked_at", now).Error)
}

// CreateRefreshToken records the first refresh token of a family.
func (s *Store) CreateRefreshToken(ctx context.Context, t *RefreshToken) error {
	return translate(s.db.WithContext(ctx).Create(t).Error)
}

// RefreshTokenByHash loads a refresh token in any state.
func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error) {
	var t RefreshToken
	if err := s.db.WithContext(ctx).Take(&t, "token_hash = ?", hash).Error; err != nil {
		return nil, translate(err)
	}
	return &t, nil
}

// RotateRefreshToken marks old as used, rotated into next, and stores next
// in one transaction; ErrAlreadyUsed when old was used, revoked or expired
// meanwhile. Of concurrent rotations of one token exactly one wins, and a
// loser that reads old afterwards finds the winner's successor.
func (s *Store) RotateRefreshToken(ctx context.Context, oldID string, next *RefreshToken, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&RefreshToken{}).
			Where("id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", oldID, now).
			Updates(map[string]any{"used_at": now, "successor_id": next.ID})
		if err := wantOne(res); err != nil {
			return err
		}
		return translate(tx.Create(next).Error)
	})
}

// RefreshTokenByID loads a refresh token by its record id.
func (s *Store) RefreshTokenByID(ctx context.Context, id string) (*RefreshToken, error) {
	if !ValidText(id) {
		return nil, ErrNotFound
	}
	var t RefreshToken
	if err := s.db.WithContext(ctx).Take(&t, "id = ?", id).Error; err != nil {
		return nil, translate(err)
	}
	return &t, nil
}
