package storage

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MaxUsernameBytes bounds a username: the sign-in form refuses a longer
// one before any lookup, and the admin service never stores one.
const MaxUsernameBytes = 256

// NormalUsername is the form usernames are stored and looked up in:
// usernames are case-insensitive. Whatever else keys on a username (the
// sign-in's backoff) uses it too, so that it names what the lookup finds.
func NormalUsername(username string) string { return strings.ToLower(username) }

// CreateUser inserts a user; ErrConflict if the username is taken.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.Username = NormalUsername(u.Username)
	return translate(s.db.WithContext(ctx).Create(u).Error)
}

// User loads a user by id.
func (s *Store) User(ctx context.Context, id string) (*User, error) {
	if !ValidText(id) {
		return nil, ErrNotFound
	}
	return rememberOne(ctx, "users", id, func() (*User, error) {
		var u User
		if err := s.db.WithContext(ctx).Take(&u, "id = ?", id).Error; err != nil {
			return nil, translate(err)
		}
		return &u, nil
	})
}

// UserByUsername loads a user by username, case-insensitively.
func (s *Store) UserByUsername(ctx context.Context, username string) (*User, error) {
	var u User
	if err := s.db.WithContext(ctx).Take(&u, "username = ?", NormalUsername(username)).Error; err != nil {
		return nil, translate(err)
	}
	return &u, nil
}

// UserUpdate is a change to a user: each non-nil field is set, the others
// are left alone, so that callers never name a column.
type UserUpdate struct {
	Username, Name, Email, Phone, PasswordHash, Locale        *string
	EmailVerified, PhoneVerified, Disabled, APIAccount, Admin *bool
}

// columns maps the fields u sets to their columns and values.
func (u UserUpdate) columns() map[string]any {
	out := map[string]any{}
	for col, v := range map[string]*string{"username": u.Username, "name": u.Name, "email": u.Email,
		"phone": u.Phone, "password_hash": u.PasswordHash, "locale": u.Locale} {
		if v != nil {
			out[col] = *v
		}
	}
	for col, v := range map[string]*bool{"email_verified": u.EmailVerified, "phone_verified": u.PhoneVerified,
		"disabled": u.Disabled, "api_account": u.APIAccount, "admin": u.Admin} {
		if v != nil {
			out[col] = *v
		}
	}
	return out
}

// Fields names the fields u sets, sorted, as the audit log records them
// ("email,email_verified,name").
func (u UserUpdate) Fields() []string {
	names := slices.Collect(maps.Keys(u.columns()))
	slices.Sort(names)
	return names
}

// IsZero reports whether u sets nothing.
func (u UserUpdate) IsZero() bool { return len(u.columns()) == 0 }

// UpdateUser applies u to one user and stamps it updated at now. A new
// username is lowercased, as in CreateUser, so that UserByUsername still
// finds it.
func (s *Store) UpdateUser(ctx context.Context, id string, u UserUpdate, now time.Time) error {
	fields := u.columns()
	fields["updated_at"] = now
	if u.Username != nil {
		fields["username"] = NormalUsername(*u.Username)
	}
	tx := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", id).Updates(fields)
	if tx.Error != nil {
		return translate(tx.Error)
	}
	if tx.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteUser removes a user and ends their sessions and tokens.
func (s *Store) DeleteUser(ctx context.Context, id string, now time.Time) error {
	tx := s.db.WithContext(ctx).Delete(&User{}, "id = ?", id)
	if tx.Error != nil {
		return translate(tx.Error)
	}
	if tx.RowsAffected == 0 {
		return ErrNotFound
	}
	if err := s.db.WithContext(ctx).Delete(&SecondFactor{}, "user_id = ?", id).Error; err != nil {
		return translate(err)
	}
	return s.RevokeUser(ctx, id, now)
}

// RevokeUser ends every session of a user and revokes their tokens: the
// user's mark voids everything that began before now, and the rows are
// marked revoked too. In the same transaction it queues the back-channel
// logouts of the clients of every live session.
func (s *Store) RevokeUser(ctx context.Context, userID string, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		if err := db.Model(&User{}).Where("id = ?", userID).Update("sessions_not_before", now).Error; err != nil {
			return translate(err)
		}
		// Tokens before sessions, in the order RotateSession locks them.
		for _, m := range []any{&AccessToken{}, &RefreshToken{}} {
			if err := db.Model(m).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", now).Error; err != nil {
				return translate(err)
			}
		}
		if err := endUserSessions(db, userID, now); err != nil {
			return err
		}
		// Expired sessions are marked too; they need no logout.
		return translate(db.Model(&Session{}).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", now).Error)
	})
}
