package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// AddSecondFactor stores a method, usually unverified until the user proves
// it; a pending factor of the same method is replaced.
func (s *Store) AddSecondFactor(ctx context.Context, f *SecondFactor) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ? AND method = ? AND verified_at IS NULL", f.UserID, f.Method).Delete(&SecondFactor{}).Error; err != nil {
			return translate(err)
		}
		return translate(tx.Create(f).Error)
	})
}

// SecondFactor loads one method of a user, verified or not.
func (s *Store) SecondFactor(ctx context.Context, userID string, method Method) (*SecondFactor, error) {
	var f SecondFactor
	if err := s.db.WithContext(ctx).Take(&f, "user_id = ? AND method = ?", userID, method).Error; err != nil {
		return nil, translate(err)
	}
	return &f, nil
}

// VerifySecondFactor marks a pending method proven, recording the TOTP step
// that proved it; the user's first method becomes preferred.
func (s *Store) VerifySecondFactor(ctx context.Context, id string, step int64, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var f SecondFactor
		if err := tx.Take(&f, "id = ?", id).Error; err != nil {
			return translate(err)
		}
		var others int64
		if err := tx.Model(&SecondFactor{}).Where("user_id = ? AND id <> ? AND verified_at IS NOT NULL", f.UserID, id).Count(&others).Error; err != nil {
			return translate(err)
		}
		res := tx.Model(&SecondFactor{}).Where("id = ? AND verified_at IS NULL", id).
			Updates(map[string]any{"verified_at": now, "last_step": step, "preferred": others == 0})
		return wantOne(res)
	})
}

// AdvanceTOTPStep records an accepted TOTP step: exactly once per step, so
// a code cannot be replayed, on this replica or another.
func (s *Store) AdvanceTOTPStep(ctx context.Context, id string, step int64) error {
	return wantOne(s.db.WithContext(ctx).Model(&SecondFactor{}).Where("id = ? AND last_step < ?", id, step).Update("last_step", step))
}

// DeleteSecondFactor removes one method of a user.
func (s *Store) DeleteSecondFactor(ctx context.Context, userID string, method Method) error {
	res := s.db.WithContext(ctx).Where("user_id = ? AND method = ?", userID, method).Delete(&SecondFactor{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SetPreferredFactor makes one verified method the one used first.
func (s *Store) SetPreferredFactor(ctx context.Context, userID string, method Method) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&SecondFactor{}).Where("user_id = ? AND method = ? AND verified_at IS NOT NULL", userID, method).Update("preferred", true)
		if err := wantOne(res); err != nil {
			return ErrNotFound
		}
		return translate(tx.Model(&SecondFactor{}).Where("user_id = ? AND method <> ?", userID, method).Update("preferred", false).Error)
	})
}

// ResetSecondFactors removes every method and recovery code of a user (an
// admin helping someone who lost their phone).
func (s *Store) ResetSecondFactors(ctx context.Context, userID string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ?", userID).Delete(&SecondFactor{}).Error; err != nil {
			return translate(err)
		}
		return translate(tx.Where("user_id = ?", userID).Delete(&RecoveryCode{}).Error)
	})
}

// ReplaceRecoveryCodes stores a new set of recovery-code hashes; the old
// set stops working.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ?", userID).Delete(&RecoveryCode{}).Error; err != nil {
			return translate(err)
		}
		rows := make([]RecoveryCode, len(hashes))
		for i, h := range hashes {
			rows[i] = RecoveryCode{ID: randomID(), UserID: userID, CodeHash: h, CreatedAt: now}
		}
		if len(rows) == 0 {
			return nil
		}
		return translate(tx.Create(&rows).Error)
	})
}

// UseRecoveryCode spends one recovery code, once; ErrNotFound when the
// code is unknown or used.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string, now time.Time) error {
	res := s.db.WithContext(ctx).Model(&RecoveryCode{}).
		Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hash).Update("used_at", now)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrNotFound
	}
	return nil
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&RecoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error
	return n, translate(err)
}

// UpdateUserContact sets a user's verified phone or email after they
// proved it with a code.
func (s *Store) UpdateUserContact(ctx context.Context, userID string, method Method, destination string, now time.Time) error {
	fields := map[string]any{"phone": destination, "phone_verified": true, "updated_at": now}
	if method == MethodEmail {
		fields = map[string]any{"email": destination, "email_verified": true, "updated_at": now}
	}
	return wantOne(s.db.WithContext(ctx).Model(&User{}).Where("id = ?", userID).Updates(fields))
}
