package storage

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"
)

// UsersAfter lists users by username after the given one (exclusive), at
// most limit: keyset pagination, which stays cheap with many users.
func (s *Store) UsersAfter(ctx context.Context, after string, limit int) ([]User, error) {
	q := s.db.WithContext(ctx).Order("username")
	if after != "" {
		q = q.Where("username > ?", after)
	}
	var out []User
	return out, translate(q.Limit(limit).Find(&out).Error)
}

// UpdateClient saves the editable settings of a client (name, redirect
// URIs, grants, token format, back-channel logout URI, scopes); its id,
// secret and authentication method are left alone.
func (s *Store) UpdateClient(ctx context.Context, c *Client) error {
	tx := s.db.WithContext(ctx).Model(&Client{}).Where("id = ?", c.ID).
		Select("name", "redirect_uris", "post_logout_redirect_uris", "grant_types", "access_token_format",
			"id_token_signed_response_alg", "backchannel_logout_uri", "scopes", "updated_at").
		Updates(c)
	if tx.Error != nil {
		return translate(tx.Error)
	}
	if tx.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SetFactorDestination points a user's enrolled methods at a new phone
// number or email address, or removes them when dest is empty, so that
// codes never go to a contact the account no longer has. The admin who
// moves them vouches for dest, as for methods they set: when a method
// moved, the user's phone (or email, for the email method) is verified.
func (s *Store) SetFactorDestination(ctx context.Context, userID string, methods []Method, dest string, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("user_id = ? AND method IN ?", userID, methods)
		if dest == "" {
			return translate(q.Delete(&SecondFactor{}).Error)
		}
		res := q.Model(&SecondFactor{}).Updates(map[string]any{"destination": dest, "verified_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return translate(res.Error)
		}
		col := "phone"
		if slices.Contains(methods, MethodEmail) {
			col = "email"
		}
		return translate(tx.Model(&User{}).Where("id = ? AND "+col+" = ?", userID, dest).Update(col+"_verified", true).Error)
	})
}
