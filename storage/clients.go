package storage

import (
	"context"
	"time"
)

// CreateClient inserts a client; ErrConflict if the id is taken.
func (s *Store) CreateClient(ctx context.Context, c *Client) error {
	return translate(s.db.WithContext(ctx).Create(c).Error)
}

// Client loads one client.
func (s *Store) Client(ctx context.Context, id string) (*Client, error) {
	if !ValidText(id) {
		return nil, ErrNotFound
	}
	return rememberOne(ctx, "clients", id, func() (*Client, error) {
		var c Client
		if err := s.db.WithContext(ctx).Take(&c, "id = ?", id).Error; err != nil {
			return nil, translate(err)
		}
		return &c, nil
	})
}

// Clients lists every client by name.
func (s *Store) Clients(ctx context.Context) ([]Client, error) {
	var out []Client
	return out, translate(s.db.WithContext(ctx).Order("name, id").Find(&out).Error)
}

// DeleteClient removes a client and revokes every token issued to it.
func (s *Store) DeleteClient(ctx context.Context, id string, now time.Time) error {
	tx := s.db.WithContext(ctx).Delete(&Client{}, "id = ?", id)
	if tx.Error != nil {
		return translate(tx.Error)
	}
	if tx.RowsAffected == 0 {
		return ErrNotFound
	}
	db := s.db.WithContext(ctx)
	if err := db.Model(&AccessToken{}).Where("client_id = ? AND revoked_at IS NULL", id).Update("revoked_at", now).Error; err != nil {
		return translate(err)
	}
	return translate(db.Model(&RefreshToken{}).Where("client_id = ? AND revoked_at IS NULL", id).Update("revoked_at", now).Error)
}

// SetClientSecretHash replaces a client's secret hash.
func (s *Store) SetClientSecretHash(ctx context.Context, id, hash string, now time.Time) error {
	tx := s.db.WithContext(ctx).Model(&Client{}).Where("id = ?", id).
		Updates(map[string]any{"secret_hash": hash, "updated_at": now})
	if tx.Error != nil {
		return translate(tx.Error)
	}
	if tx.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
