package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Policy scopes.
const (
	ScopeGlobal = "global"
	ScopeClient = "client"
	ScopeUser   = "user"
)

// PolicyFor loads the policy of one level; ErrNotFound when none is set.
func (s *Store) PolicyFor(ctx context.Context, scope, targetID string) (*Policy, error) {
	var p Policy
	if err := s.db.WithContext(ctx).Take(&p, "scope = ? AND target_id = ?", scope, targetID).Error; err != nil {
		return nil, translate(err)
	}
	return &p, nil
}

// PolicyLevels loads, in one query, the global policy and those of a client
// and a user (any may be missing). Nothing is cached: a change holds on the
// next request on every replica.
func (s *Store) PolicyLevels(ctx context.Context, clientID, userID string) (global, client, user *Policy, err error) {
	rows, err := rememberAll(ctx, "policies", clientID+"\x00"+userID, func() ([]Policy, error) {
		var rows []Policy
		err := s.db.WithContext(ctx).Where("(scope = ? AND target_id = '') OR (scope = ? AND target_id = ?) OR (scope = ? AND target_id = ?)",
			ScopeGlobal, ScopeClient, clientID, ScopeUser, userID).Find(&rows).Error
		return rows, err
	})
	if err != nil {
		return nil, nil, nil, translate(err)
	}
	for i := range rows {
		switch rows[i].Scope {
		case ScopeGlobal:
			global = &rows[i]
		case ScopeClient:
			client = &rows[i]
		case ScopeUser:
			user = &rows[i]
		}
	}
	return global, client, user, nil
}

// Policies lists every policy.
func (s *Store) Policies(ctx context.Context) ([]Policy, error) {
	var out []Policy
	return out, translate(s.db.WithContext(ctx).Order("scope, target_id").Find(&out).Error)
}

// PutPolicy creates or replaces the policy of p's level.
func (s *Store) PutPolicy(ctx context.Context, p *Policy) error {
	return translate(s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "scope"}, {Name: "target_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"second_factor", "allowed_methods", "sms_fallback", "code_digits", "code_ttl_seconds", "max_attempts", "resend_cooldown_seconds", "max_resends", "session_lifetime_seconds", "idle_timeout_seconds", "remember_device_seconds", "exempt_api_accounts", "updated_at"}),
	}).Create(p).Error)
}

// policyFields maps each policy setting, named as the admin API and the
// effective policy name it, to its column and to a copy of its value.
var policyFields = map[string]struct {
	column string
	copy   func(dst, src *Policy)
}{
	"second_factor":       {"second_factor", func(d, s *Policy) { d.SecondFactor = s.SecondFactor }},
	"allowed_methods":     {"allowed_methods", func(d, s *Policy) { d.AllowedMethods = s.AllowedMethods }},
	"sms_fallback":        {"sms_fallback", func(d, s *Policy) { d.SMSFallback = s.SMSFallback }},
	"code_digits":         {"code_digits", func(d, s *Policy) { d.CodeDigits = s.CodeDigits }},
	"code_ttl":            {"code_ttl_seconds", func(d, s *Policy) { d.CodeTTLSeconds = s.CodeTTLSeconds }},
	"max_attempts":        {"max_attempts", func(d, s *Policy) { d.MaxAttempts = s.MaxAttempts }},
	"resend_cooldown":     {"resend_cooldown_seconds", func(d, s *Policy) { d.ResendCooldownSeconds = s.ResendCooldownSeconds }},
	"max_resends":         {"max_resends", func(d, s *Policy) { d.MaxResends = s.MaxResends }},
	"session_lifetime":    {"session_lifetime_seconds", func(d, s *Policy) { d.SessionLifetimeSeconds = s.SessionLifetimeSeconds }},
	"idle_timeout":        {"idle_timeout_seconds", func(d, s *Policy) { d.IdleTimeoutSeconds = s.IdleTimeoutSeconds }},
	"remember_device":     {"remember_device_seconds", func(d, s *Policy) { d.RememberDeviceSeconds = s.RememberDeviceSeconds }},
	"exempt_api_accounts": {"exempt_api_accounts", func(d, s *Policy) { d.ExemptAPIAccounts = s.ExemptAPIAccounts }},
}

// PatchPolicy sets the named settings of p's level to p's values (an
// empty or nil value inherits again) and leaves the others as they are
// stored; a level without a policy gets one with these settings alone.
// Fields are named as the admin API names them ("code_ttl"). It is one
// statement, so that concurrent patches of different settings all hold.
func (s *Store) PatchPolicy(ctx context.Context, p *Policy, fields []string) error {
	row := &Policy{ID: p.ID, Scope: p.Scope, TargetID: p.TargetID, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	columns := []string{"updated_at"}
	for _, f := range fields {
		pf, ok := policyFields[f]
		if !ok {
			return fmt.Errorf("storage: no policy setting %q", f)
		}
		pf.copy(row, p)
		columns = append(columns, pf.column)
	}
	return translate(s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "scope"}, {Name: "target_id"}},
		DoUpdates: clause.AssignmentColumns(columns),
	}).Create(row).Error)
}

// DeletePolicy removes the policy of one level.
func (s *Store) DeletePolicy(ctx context.Context, scope, targetID string) error {
	tx := s.db.WithContext(ctx).Delete(&Policy{}, "scope = ? AND target_id = ?", scope, targetID)
	if tx.Error != nil {
		return translate(tx.Error)
	}
	if tx.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

const globalNotBeforeKey = "sessions_not_before"

// GlobalNotBefore returns the provider-wide session mark: sessions and
// tokens that began before it are void. Zero when never set.
func (s *Store) GlobalNotBefore(ctx context.Context) (time.Time, error) {
	var st Setting
	err := s.db.WithContext(ctx).Take(&st, "key = ?", globalNotBeforeKey).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, translate(err)
	}
	t, err := time.Parse(time.RFC3339Nano, st.Value)
	if err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// RevokeAll sets the global mark: every session and user token issued
// before now stops working at once, without touching their rows.
func (s *Store) RevokeAll(ctx context.Context, now time.Time) error {
	st := Setting{Key: globalNotBeforeKey, Value: now.UTC().Format(time.RFC3339Nano), UpdatedAt: now}
	return translate(s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&st).Error)
}

// AddSessionClient records that a client signed in through a session.
func (s *Store) AddSessionClient(ctx context.Context, sessionID, clientID string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var sess Session
		// Lock the row: without it, concurrent sign-ins through one session
		// each append to the list they read and all but one client is lost
		// (PostgreSQL; SQLite's immediate transactions already serialize).
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "clients").Take(&sess, "id = ?", sessionID).Error; err != nil {
			return translate(err)
		}
		if sess.Clients.Contains(clientID) {
			return nil
		}
		return translate(tx.Model(&Session{}).Where("id = ?", sessionID).
			Update("clients", append(sess.Clients, clientID)).Error)
	})
}

// Session loads a session in any state.
func (s *Store) Session(ctx context.Context, id string) (*Session, error) {
	if !ValidText(id) {
		return nil, ErrNotFound
	}
	var sess Session
	if err := s.db.WithContext(ctx).Take(&sess, "id = ?", id).Error; err != nil {
		return nil, translate(err)
	}
	return &sess, nil
}
