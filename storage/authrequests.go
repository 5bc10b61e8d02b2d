package storage

import (
	"context"
	"time"
)

// CreateAuthRequest stores a new authorization request.
func (s *Store) CreateAuthRequest(ctx context.Context, a *AuthRequest) error {
	return translate(s.db.WithContext(ctx).Create(a).Error)
}

// AuthRequest loads an authorization request that has not expired.
func (s *Store) AuthRequest(ctx context.Context, id string, now time.Time) (*AuthRequest, error) {
	if !ValidText(id) {
		return nil, ErrNotFound
	}
	a, err := rememberOne(ctx, "auth_requests", id, func() (*AuthRequest, error) {
		var a AuthRequest
		if err := s.db.WithContext(ctx).Take(&a, "id = ?", id).Error; err != nil {
			return nil, translate(err)
		}
		return &a, nil
	})
	if err == nil && !a.ExpiresAt.After(now) {
		return nil, ErrNotFound
	}
	return a, err
}

// BindAuthRequest ties an authorization request to the browser that first
// opened its login page. It succeeds if the request is unbound or already
// bound to the same browser, and returns ErrAlreadyUsed otherwise.
func (s *Store) BindAuthRequest(ctx context.Context, id, browserHash string) error {
	tx := s.db.WithContext(ctx).Model(&AuthRequest{}).
		Where("id = ? AND (browser_hash = '' OR browser_hash = ?)", id, browserHash).
		Update("browser_hash", browserHash)
	return wantOne(tx)
}

// Completion is what a finished sign-in records on its authorization request.
type Completion struct {
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
}

// CompleteAuthRequest marks a request done, once: this is the single gate
// behind which a code may be issued.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, c Completion, now time.Time) error {
	authTime := c.AuthTime.UTC()
	tx := s.db.WithContext(ctx).Model(&AuthRequest{}).
		Where("id = ? AND done_at IS NULL AND expires_at > ?", id, now).
		Updates(map[string]any{
			"user_id": c.UserID, "session_id": c.SessionID, "auth_time": authTime,
			"amr": StringList(c.AMR), "acr": c.ACR, "done_at": now,
		})
	return wantOne(tx)
}

// SaveAuthCode records the hash of the code issued for a done request. A
// request gets one code: a second callback cannot mint another.
func (s *Store) SaveAuthCode(ctx context.Context, id, codeHash string, expires time.Time) error {
	tx := s.db.WithContext(ctx).Model(&AuthRequest{}).
		Where("id = ? AND done_at IS NOT NULL AND code_hash = ''", id).
		Updates(map[string]any{"code_hash": codeHash, "code_expires_at": expires})
	return wantOne(tx)
}

// AuthRequestByCodeHash loads the request a code was issued for, whatever
// its state; the caller decides what expiry and redemption mean.
func (s *Store) AuthRequestByCodeHash(ctx context.Context, codeHash string) (*AuthRequest, error) {
	var a AuthRequest
	if codeHash == "" {
		return nil, ErrNotFound
	}
	if err := s.db.WithContext(ctx).Take(&a, "code_hash = ?", codeHash).Error; err != nil {
		return nil, translate(err)
	}
	return &a, nil
}

// RedeemAuthCode spends a code: exactly one caller wins.
func (s *Store) RedeemAuthCode(ctx context.Context, id string, now time.Time) error {
	tx := s.db.WithContext(ctx).Model(&AuthRequest{}).
		Where("id = ? AND redeemed_at IS NULL AND code_expires_at > ?", id, now).
		Update("redeemed_at", now)
	return wantOne(tx)
}

// RevokeFamily revokes every access and refresh token of one grant.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) error {
	db := s.db.WithContext(ctx)
	if err := db.Model(&AccessToken{}).Where("family_id = ? AND revoked_at IS NULL", familyID).Update("revoked_at", now).Error; err != nil {
		return translate(err)
	}
	return translate(db.Model(&RefreshToken{}).Where("family_id = ? AND revoked_at IS NULL", familyID).Update("revoked_at", now).Error)
}
