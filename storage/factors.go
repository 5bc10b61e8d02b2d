package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"
)

// SecondFactors lists a user's enrolled methods, the preferred one first.
func (s *Store) SecondFactors(ctx context.Context, userID string) ([]SecondFactor, error) {
	return rememberAll(ctx, "second_factors", userID, func() ([]SecondFactor, error) {
		var out []SecondFactor
		err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("preferred DESC, created_at, method").Find(&out).Error
		return out, translate(err)
	})
}

// ReplaceSecondFactors sets a user's code-based methods (sms, voice, email)
// to exactly factors, in one transaction; other methods are kept. A
// verified factor vouches for its destination: the user's phone or email,
// when it is that destination, is marked verified with it, so the account
// never says "unverified" of a number it texts codes to.
func (s *Store) ReplaceSecondFactors(ctx context.Context, userID string, factors []SecondFactor) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ? AND method IN ?", userID, []Method{MethodSMS, MethodVoice, MethodEmail}).Delete(&SecondFactor{}).Error; err != nil {
			return translate(err)
		}
		if len(factors) == 0 {
			return nil
		}
		if err := tx.Create(&factors).Error; err != nil {
			return translate(err)
		}
		for _, f := range factors {
			if f.VerifiedAt == nil || f.Destination == "" {
				continue
			}
			col := "phone"
			if f.Method == MethodEmail {
				col = "email"
			}
			err := tx.Model(&User{}).Where("id = ? AND "+col+" = ?", userID, f.Destination).Update(col+"_verified", true).Error
			if err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

// SetPendingUser records that the password step of a request succeeded for
// userID; the second factor is still due, so the request is not done.
func (s *Store) SetPendingUser(ctx context.Context, authRequestID, userID string) error {
	tx := s.db.WithContext(ctx).Model(&AuthRequest{}).
		Where("id = ? AND done_at IS NULL", authRequestID).Update("pending_user_id", userID)
	return wantOne(tx)
}

// CreateChallenge stores a new challenge and ends the request's previous
// ones, so only the newest code of a sign-in works.
func (s *Store) CreateChallenge(ctx context.Context, c *Challenge) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Challenge{}).Where("auth_request_id = ? AND used_at IS NULL", c.AuthRequestID).
			Update("used_at", c.CreatedAt).Error; err != nil {
			return translate(err)
		}
		return translate(tx.Create(c).Error)
	})
}

// CreateFirstChallenge stores the first challenge of a request, which has
// no earlier one to end: one statement instead of CreateChallenge's
// transaction. Of two first challenges created at once, LatestChallenge
// serves the newer.
func (s *Store) CreateFirstChallenge(ctx context.Context, c *Challenge) error {
	return translate(s.db.WithContext(ctx).Create(c).Error)
}

// LatestChallenge returns the live challenge of a request, or its newest
// one when none is live. Live first, because two challenges can share a
// timestamp.
func (s *Store) LatestChallenge(ctx context.Context, authRequestID string) (*Challenge, error) {
	var c Challenge
	err := s.db.WithContext(ctx).Where("auth_request_id = ?", authRequestID).
		Order("(used_at IS NULL) DESC, created_at DESC, id").Take(&c).Error
	if err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// LatestChallengeAndCount returns what LatestChallenge does (nil when the
// request has none yet) and how many challenges the request has had, in
// one statement: what a sign-in's code step needs to know of its codes.
func (s *Store) LatestChallengeAndCount(ctx context.Context, authRequestID string) (*Challenge, int64, error) {
	var row struct {
		Challenge `gorm:"embedded"`
		Sent      int64
	}
	err := s.db.WithContext(ctx).Table("challenges").
		Select("challenges.*, (SELECT count(*) FROM challenges c WHERE c.auth_request_id = challenges.auth_request_id) AS sent").
		Where("auth_request_id = ?", authRequestID).
		Order("(used_at IS NULL) DESC, created_at DESC, id").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, translate(err)
	}
	return &row.Challenge, row.Sent, nil
}

// SpendAttempt counts one guess against a live challenge and returns the
// attempts counted so far, this one included; ErrAlreadyUsed when it is
// used, expired or out of attempts. Concurrent guesses cannot exceed the
// limit, and each learns its own count: the count is one conditional
// UPDATE that returns the value it set, so no two guesses see the same.
func (s *Store) SpendAttempt(ctx context.Context, id string, now time.Time) (int, error) {
	var attempts int
	row := s.db.WithContext(ctx).Table("challenges").Raw(`UPDATE challenges SET attempts = attempts + 1
		WHERE id = ? AND used_at IS NULL AND attempts < max_attempts AND expires_at > ?
		RETURNING attempts`, id, now).Row()
	if err := row.Scan(&attempts); errors.Is(err, sql.ErrNoRows) {
		return 0, ErrAlreadyUsed
	} else if err != nil {
		return 0, translate(err)
	}
	return attempts, nil
}

// SpendLatestAttempt is SpendAttempt on the request's latest challenge
// (LatestChallenge's), found and counted in one statement: it returns the
// challenge with this guess counted in Attempts. ErrAlreadyUsed when the
// latest is used, expired or out of attempts, or there is none. The
// conditions are those of SpendAttempt's UPDATE, checked on the row as it
// is when the UPDATE takes it, so parallel guesses cannot exceed the limit.
func (s *Store) SpendLatestAttempt(ctx context.Context, authRequestID string, now time.Time) (*Challenge, error) {
	var c Challenge
	tx := s.db.WithContext(ctx).Table("challenges").Raw(`UPDATE challenges SET attempts = attempts + 1
		WHERE id = (SELECT id FROM challenges WHERE auth_request_id = ?
			ORDER BY (used_at IS NULL) DESC, created_at DESC, id LIMIT 1)
		AND used_at IS NULL AND attempts < max_attempts AND expires_at > ?
		RETURNING *`, authRequestID, now).Scan(&c)
	if tx.Error != nil {
		return nil, translate(tx.Error)
	}
	if tx.RowsAffected == 0 {
		return nil, ErrAlreadyUsed
	}
	return &c, nil
}

// UseChallenge consumes a challenge whose code was right: exactly once.
func (s *Store) UseChallenge(ctx context.Context, id string, now time.Time) error {
	tx := s.db.WithContext(ctx).Model(&Challenge{}).Where("id = ? AND used_at IS NULL", id).Update("used_at", now)
	return wantOne(tx)
}
