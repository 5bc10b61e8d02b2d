package account

import (
	"errors"
	"net/http"

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
		return fail(http.StatusBadRequest, page{CurrentError: "Enter your current password."})
	case refused != nil:
		return fail(http.StatusBadRequest, page{NewError: "Your new password " + refused.Message + "."})
	case next != again:
		return fail(http.StatusBadRequest, page{NewError: "The new passwords do not match. Type the same password twice."})
	}
	var wrong *login.PasswordRefused
	if err := a.cfg.Login.Reauthenticate(w, r, u, current); errors.As(err, &wrong) {
		if wrong.Wrong {
			a.audit(r, "password_change_failed", u, "rejected", "reason=wrong_current_password")
		}
		if wrong.Busy {
			return fail(wrong.Status, page{Error: wrong.Message})
		}
		return fail(wrong.Status, page{CurrentError: wrong.Message})
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
