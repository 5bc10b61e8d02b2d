package account

import (
	"errors"
	"net/http"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/password"
)

// changePassword changes the password after checking the current one
// (login.Reauthenticate: asked again, within the sign-in's limits), then
// ends every other session of the user and the tokens issued under them.
func (a *Account) changePassword(w http.ResponseWriter, r *http.Request) error {
	st, err := a.user(w, r)
	if err != nil {
		return err
	}
	u := st.User
	current, next, again := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("new_password_again")
	fail := func(status int, p page) error { return a.render(w, r, st, status, p) }
	refused, _ := password.AsError(a.cfg.PasswordRule.Check(next, u.Username)) // the one password rule
	switch {
	case current == "":
		return fail(http.StatusBadRequest, page{CurrentError: a.say(r, "account.password.enter_current")})
	case refused != nil:
		return fail(http.StatusBadRequest, page{NewError: a.cfg.Login.Say(r, a.refusal(refused))})
	case next != again:
		return fail(http.StatusBadRequest, page{NewError: a.say(r, "account.password.mismatch")})
	}
	var wrong *login.PasswordRefused
	if err := a.cfg.Login.Reauthenticate(w, r, u, current); errors.As(err, &wrong) {
		if wrong.Wrong {
			a.audit(r, "password_change_failed", u, "rejected", "reason=wrong_current_password")
		}
		if wrong.Busy {
			return fail(wrong.Status, page{Error: a.cfg.Login.Say(r, wrong.Message)})
		}
		return fail(wrong.Status, page{CurrentError: a.cfg.Login.Say(r, wrong.Message)})
	} else if err != nil {
		return err
	}
	hash, err := a.cfg.Passwords.Hash(r.Context(), next)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.ChangePassword(r.Context(), u.ID, hash, st.Session.ID, a.cfg.Now()); err != nil {
		return err
	}
	a.audit(r, "password_changed", u, "ok", "other_sessions=ended")
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
	return nil
}

// refusal words why the password rule refused a new password.
func (a *Account) refusal(e *password.Error) i18n.Message {
	switch e.Reason {
	case password.TooShort:
		return i18n.M("account.password.too_short", "Min", a.cfg.PasswordRule.Min())
	case password.TooLong:
		return i18n.M("account.password.too_long")
	case password.NotUTF8:
		return i18n.M("account.password.not_utf8")
	case password.SameAsUsername:
		return i18n.M("account.password.same_as_username")
	}
	return i18n.M("account.password.blocked")
}
