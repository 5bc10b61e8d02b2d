package admin

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/login/contact"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// UserSpec is a new user.
type UserSpec struct {
	Username   string `json:"username"`
	Name       string `json:"name,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Locale     string `json:"locale,omitempty"` // BCP 47 language tag
	Password   string `json:"password"`
	APIAccount bool   `json:"api_account,omitempty"`
	Admin      bool   `json:"admin,omitempty"`
}

// UserPatch changes a user; nil leaves a field as it is. An empty email or
// phone removes it (and the methods that used it).
type UserPatch struct {
	Name       *string `json:"name"`
	Email      *string `json:"email"`
	Phone      *string `json:"phone"`
	Locale     *string `json:"locale"` // empty: the language of each sign-in
	Disabled   *bool   `json:"disabled"`
	APIAccount *bool   `json:"api_account"`
	Admin      *bool   `json:"admin"`
}

// UserView is a user as the API shows it, never with the password hash.
type UserView struct {
	ID            string       `json:"id"`
	Username      string       `json:"username"`
	Name          string       `json:"name"`
	Email         string       `json:"email"`
	EmailVerified bool         `json:"email_verified"`
	Phone         string       `json:"phone"`
	PhoneVerified bool         `json:"phone_verified"`
	Locale        string       `json:"locale"`
	Disabled      bool         `json:"disabled"`
	APIAccount    bool         `json:"api_account"`
	Admin         bool         `json:"admin"`
	SecondFactors []FactorView `json:"second_factors,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`
	UpdatedAt     time.Time    `json:"updated_at"`
}

// FactorView is one enrolled second-factor method.
type FactorView struct {
	Method      storage.Method `json:"method"`
	Destination string         `json:"destination,omitempty"`
	Preferred   bool           `json:"preferred"`
}

// ViewUser is the API's view of a user; factors may be nil (lists).
func ViewUser(u *storage.User, factors []storage.SecondFactor) UserView {
	v := UserView{ID: u.ID, Username: u.Username, Name: u.Name, Email: u.Email, EmailVerified: u.EmailVerified,
		Phone: u.Phone, PhoneVerified: u.PhoneVerified, Locale: u.Locale, Disabled: u.Disabled, APIAccount: u.APIAccount,
		Admin: u.Admin, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	for _, f := range factors {
		v.SecondFactors = append(v.SecondFactors, FactorView{Method: f.Method, Destination: f.Destination, Preferred: f.Preferred})
	}
	return v
}

// UserPage is one page of users by username.
type UserPage struct {
	Users      []UserView `json:"users"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// Users returns a page of users after cursor (from the previous page).
func (a *Admin) Users(ctx context.Context, limit int, cursor string) (UserPage, error) {
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 500 {
		return UserPage{}, invalid("limit", "must be 1 to 500 (got %d)", limit)
	}
	after, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return UserPage{}, invalid("cursor", "not a cursor this API returned")
	}
	list, err := a.store.UsersAfter(ctx, string(after), limit+1)
	if err != nil {
		return UserPage{}, err
	}
	page := UserPage{Users: []UserView{}}
	if len(list) > limit {
		list = list[:limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(list[limit-1].Username))
	}
	for i := range list {
		page.Users = append(page.Users, ViewUser(&list[i], nil))
	}
	return page, nil
}

// User loads a user (by username or id) with their second factors.
func (a *Admin) User(ctx context.Context, ref string) (*storage.User, []storage.SecondFactor, error) {
	u, err := a.FindUser(ctx, "id", ref)
	if err != nil {
		return nil, nil, err
	}
	factors, err := a.store.SecondFactors(ctx, u.ID)
	return u, factors, err
}

// normalizeLocale puts a user's language in its canonical BCP 47 form
// ("pt-BR"); a tag that is none is a problem of the field locale. Empty
// stays empty: messages then follow the language of each sign-in.
func normalizeLocale(p *problems, value string) string {
	if value == "" {
		return ""
	}
	tag, err := language.Parse(value)
	if err != nil || len(value) > 35 {
		p.add("locale", "must be a BCP 47 language tag such as de, fr-CA or pt-BR (got %q)", value)
		return ""
	}
	return tag.String()
}

// normalizeContact puts an email address or a phone number in the form
// it is stored in; a bad one is a problem of field, and not ok.
func normalizeContact(p *problems, field, value string) (out string, ok bool) {
	if value == "" {
		return "", true
	}
	var err error
	if field == "email" {
		out, err = contact.NormalizeEmail(value)
	} else {
		out, err = contact.NormalizePhone(value, "")
	}
	if err != nil {
		p.add(field, "%v", err)
		return "", false
	}
	return out, true
}

// checkPassword applies the password rule to a new password of username;
// what is missing or refused names the password field.
func (a *Admin) checkPassword(p *problems, pw, username, what string) {
	if pw == "" {
		p.add(password.Field, "required: %s (at least %d characters)", what, a.cfg.PasswordRule.Min())
		return
	}
	if e, ok := password.AsError(a.cfg.PasswordRule.Check(pw, username)); ok {
		p.add(password.Field, "%s", e.Message)
	}
}

// CreateUser validates and creates a user with a password; every bad
// field is reported at once.
func (a *Admin) CreateUser(ctx context.Context, actor Actor, s UserSpec) (*storage.User, error) {
	var p problems
	if err := checkUsername(s.Username); err != nil {
		p.add("username", "%v", err)
	}
	u := &storage.User{ID: uuid.NewString(), Username: s.Username, Name: s.Name, APIAccount: s.APIAccount, Admin: s.Admin}
	u.Email, _ = normalizeContact(&p, "email", s.Email)
	u.Phone, _ = normalizeContact(&p, "phone", s.Phone)
	u.Locale = normalizeLocale(&p, s.Locale)
	a.checkPassword(&p, s.Password, s.Username, "the user's first password")
	if err := p.err(); err != nil {
		return nil, err
	}
	var err error
	if u.PasswordHash, err = a.cfg.Passwords.Hash(ctx, s.Password); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = a.cfg.Now(), a.cfg.Now()
	if err := a.store.CreateUser(ctx, u); errors.Is(err, storage.ErrConflict) {
		return nil, conflict("username", "username %q is taken", s.Username)
	} else if err != nil {
		return nil, err
	}
	a.audit(ctx, actor, "user_created", u.ID, "", "")
	return u, nil
}

// UpdateUser applies a patch. Disabling ends the user's sessions; a new
// phone or email moves the methods that used the old one.
func (a *Admin) UpdateUser(ctx context.Context, actor Actor, ref string, p UserPatch) (*storage.User, error) {
	var pr problems
	u, err := a.FindUser(ctx, "id", ref)
	if err != nil {
		return nil, err
	}
	up := storage.UserUpdate{Name: p.Name, Disabled: p.Disabled, APIAccount: p.APIAccount, Admin: p.Admin}
	type move struct {
		methods []storage.Method
		dest    string
	}
	var moves []move // the methods that follow a new phone or email
	for _, c := range []struct {
		field    string
		in       *string
		cur      string
		set      **string
		verified **bool
		methods  []storage.Method
	}{{"email", p.Email, u.Email, &up.Email, &up.EmailVerified, []storage.Method{storage.MethodEmail}},
		{"phone", p.Phone, u.Phone, &up.Phone, &up.PhoneVerified, []storage.Method{storage.MethodSMS, storage.MethodVoice}}} {
		if c.in == nil {
			continue
		}
		v, ok := normalizeContact(&pr, c.field, *c.in)
		if !ok {
			continue
		}
		if v != c.cur {
			*c.set, *c.verified = &v, new(false) // nobody has proven the new one yet
			moves = append(moves, move{c.methods, v})
		}
	}
	if p.Locale != nil {
		if v := normalizeLocale(&pr, *p.Locale); v != u.Locale {
			up.Locale = &v
		}
	}
	if err := pr.err(); err != nil {
		return nil, err
	}
	if up.IsZero() {
		return u, nil
	}
	now := a.cfg.Now()
	if err := a.store.UpdateUser(ctx, u.ID, up, now); err != nil {
		return nil, err
	}
	for _, m := range moves {
		if err := a.store.SetFactorDestination(ctx, u.ID, m.methods, m.dest, now); err != nil {
			return nil, err
		}
	}
	if p.Disabled != nil && *p.Disabled && !u.Disabled {
		if err := a.store.RevokeUser(ctx, u.ID, now); err != nil {
			return nil, err
		}
	}
	a.audit(ctx, actor, "user_updated", u.ID, "", "fields="+strings.Join(up.Fields(), ","))
	return a.store.User(ctx, u.ID)
}

// SetDisabled disables a user (ending their sessions) or enables them.
func (a *Admin) SetDisabled(ctx context.Context, actor Actor, ref string, disabled bool) (*storage.User, error) {
	u, err := a.FindUser(ctx, "id", ref)
	if err != nil {
		return nil, err
	}
	now := a.cfg.Now()
	if err := a.store.UpdateUser(ctx, u.ID, storage.UserUpdate{Disabled: &disabled}, now); err != nil {
		return nil, err
	}
	typ := "user_enabled"
	if disabled {
		typ = "user_disabled"
		if err := a.store.RevokeUser(ctx, u.ID, now); err != nil {
			return nil, err
		}
	}
	a.audit(ctx, actor, typ, u.ID, "", "")
	return a.store.User(ctx, u.ID)
}

// DeleteUser removes a user and ends their sessions and tokens; it
// returns the user as they were.
func (a *Admin) DeleteUser(ctx context.Context, actor Actor, ref string) (*storage.User, error) {
	u, err := a.FindUser(ctx, "id", ref)
	if err != nil {
		return nil, err
	}
	if err := a.store.DeleteUser(ctx, u.ID, a.cfg.Now()); err != nil {
		return nil, err
	}
	a.audit(ctx, actor, "user_deleted", u.ID, "", "")
	return u, nil
}

// SetPassword replaces a user's password and ends their sessions.
func (a *Admin) SetPassword(ctx context.Context, actor Actor, ref, pw string) (*storage.User, error) {
	u, err := a.FindUser(ctx, "id", ref)
	if err != nil {
		return nil, err
	}
	var p problems
	a.checkPassword(&p, pw, u.Username, "the new password")
	if err := p.err(); err != nil {
		return nil, err
	}
	hash, err := a.cfg.Passwords.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	now := a.cfg.Now()
	if err := a.store.UpdateUser(ctx, u.ID, storage.UserUpdate{PasswordHash: &hash}, now); err != nil {
		return nil, err
	}
	if err := a.store.RevokeUser(ctx, u.ID, now); err != nil {
		return nil, err
	}
	a.audit(ctx, actor, "password_set", u.ID, "", "")
	return u, nil
}

// ResetSecondFactors removes every second-factor method and recovery code
// of a user and ends their sessions, for someone who lost their phone.
// Under a policy that requires a second factor, their next sign-in takes
// them through enrolment.
func (a *Admin) ResetSecondFactors(ctx context.Context, actor Actor, ref string) (*storage.User, error) {
	u, err := a.FindUser(ctx, "id", ref)
	if err != nil {
		return nil, err
	}
	if err := a.store.ResetSecondFactors(ctx, u.ID); err != nil {
		return nil, err
	}
	if err := a.store.RevokeUser(ctx, u.ID, a.cfg.Now()); err != nil {
		return nil, err
	}
	a.audit(ctx, actor, "second_factor_reset", u.ID, "", "")
	return u, nil
}

// Unlock lifts the lock of an account that failed too often in a row
// (limits.lock_after) and its backoff: the failure count starts again.
func (a *Admin) Unlock(ctx context.Context, actor Actor, ref string) (*storage.User, error) {
	u, err := a.FindUser(ctx, "id", ref)
	if err != nil {
		return nil, err
	}
	if a.cfg.Guard == nil {
		return nil, errors.New("admin: no guard to unlock accounts with")
	}
	if err := a.cfg.Guard.Unlock(ctx, u.ID); err != nil {
		return nil, err
	}
	a.audit(ctx, actor, "account_unlocked", u.ID, "", "")
	return u, nil
}

// SetSecondFactors sets a user's code methods (sms, voice, email) to
// exactly methods, preferred first (default: the first listed); none
// leaves the password alone. The admin vouches for the account's phone and
// address: the methods count as verified, and so do the user's phone
// (sms, voice) and email (email), as the store records with the methods.
// Users verify their own at enrolment. Other methods (totp) are kept. Only
// the code methods can be set this way: they deliver to the phone or the
// address on the account.
func (a *Admin) SetSecondFactors(ctx context.Context, actor Actor, ref string, methods []storage.Method, preferred storage.Method) ([]storage.SecondFactor, error) {
	u, err := a.FindUser(ctx, "id", ref)
	if err != nil {
		return nil, err
	}
	if preferred == "" && len(methods) > 0 {
		preferred = methods[0]
	}
	var p problems
	now := a.cfg.Now()
	var factors []storage.SecondFactor
	for _, m := range methods {
		if !m.SendsCode() {
			p.add("methods", "%q is not sms, voice or email", m)
			continue
		}
		dest, what := u.Phone, "phone number"
		if m == storage.MethodEmail {
			dest, what = u.Email, "email address"
		}
		if dest == "" {
			p.add("methods", "%s: %s has no %s", m, u.Username, what)
			continue
		}
		if slices.ContainsFunc(factors, func(f storage.SecondFactor) bool { return f.Method == m }) {
			continue
		}
		factors = append(factors, storage.SecondFactor{ID: uuid.NewString(), UserID: u.ID, Method: m,
			Destination: dest, Preferred: m == preferred, VerifiedAt: &now, CreatedAt: now})
	}
	if preferred != "" && !slices.Contains(methods, preferred) {
		p.add("preferred", "%q is not one of methods", preferred)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if err := a.store.ReplaceSecondFactors(ctx, u.ID, factors); err != nil {
		return nil, err
	}
	a.audit(ctx, actor, "second_factor_set", u.ID, "", "methods="+storage.MethodList(methods).Join(","))
	return a.store.SecondFactors(ctx, u.ID)
}
