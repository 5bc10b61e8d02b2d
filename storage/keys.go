package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SigningKeys lists keys still visible in JWKS at now, newest first.
func (s *Store) SigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error) {
	var out []SigningKey
	err := s.db.WithContext(ctx).
		Where("visible_until IS NULL OR visible_until > ?", now).
		Order("created_at DESC, id DESC").Find(&out).Error
	return out, translate(err)
}

// AddSigningKey stores a new key and retires the previous active ones of
// its algorithm, keeping them visible until visibleUntil. Each algorithm
// has its own active key, so clients that verify different algorithms are
// served side by side.
func (s *Store) AddSigningKey(ctx context.Context, k *SigningKey, visibleUntil time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&SigningKey{}).Where("retired_at IS NULL AND algorithm = ?", k.Algorithm).
			Updates(map[string]any{"retired_at": k.CreatedAt, "visible_until": visibleUntil}).Error; err != nil {
			return translate(err)
		}
		return translate(tx.Create(k).Error)
	})
}
