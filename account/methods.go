package account

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/login/contact"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// addPath is where the account's "add a method" pages live: the
// enrolment pages of login, mounted here for the signed-in user.
const addPath = "/account/methods/add"

type methodRow struct {
	Method                       storage.Method
	Label, Destination, Verified string
	Preferred, Pending           bool
}

type addLink struct{ Label, Href, ID string }

// methodRows are the rows of the methods table; dates in the layout of
// the page's language (its catalogue's format.date).
func methodRows(factors []storage.SecondFactor, dateLayout string) []methodRow {
	rows := make([]methodRow, 0, len(factors))
	for _, f := range factors {
		row := methodRow{Method: f.Method, Label: login.MethodLabel(f.Method), Preferred: f.Preferred && f.VerifiedAt != nil, Pending: f.VerifiedAt == nil}
		switch f.Method {
		case storage.MethodEmail:
			row.Destination = contact.MaskEmail(f.Destination)
		case storage.MethodSMS, storage.MethodVoice:
			row.Destination = contact.MaskPhone(f.Destination)
		}
		if f.VerifiedAt != nil {
			row.Verified = f.VerifiedAt.UTC().Format(dateLayout)
		}
		rows = append(rows, row)
	}
	return rows
}

// addLinks offers the enrolment of each method the policy allows and the
// user has not verified yet.
func addLinks(eff policy.Effective, factors []storage.SecondFactor) []addLink {
	var out []addLink
	for _, m := range []struct {
		method storage.Method
		path   string
	}{{storage.MethodTOTP, "/totp"}, {storage.MethodSMS, "/phone"}, {storage.MethodEmail, "/email"}} {
		has := slices.ContainsFunc(factors, func(f storage.SecondFactor) bool { return f.Method == m.method && f.VerifiedAt != nil })
		if eff.Allows(m.method) && !has {
			out = append(out, addLink{Label: login.MethodLabel(m.method), Href: addPath + m.path, ID: "add-" + string(m.method)})
		}
	}
	return out
}

// removeMethod removes one method. Under a policy that requires a second
// factor, the last one the policy accepts stays. With the last verified
// method gone, the recovery codes go too: they stand in for a factor the
// user no longer has.
func (a *Account) removeMethod(w http.ResponseWriter, r *http.Request) error {
	st, err := a.user(w, r)
	if err != nil {
		return err
	}
	ctx, u, eff := r.Context(), st.User, st.Policy
	method, _ := storage.ParseMethod(r.PostFormValue("method")) // "" for no method: on no account
	factors, err := a.cfg.Store.SecondFactors(ctx, u.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(factors, func(f storage.SecondFactor) bool { return f.Method == method })
	if i < 0 {
		return a.render(w, r, st, http.StatusBadRequest, page{Error: a.say(r, "account.methods.not_on_account")})
	}
	rest := slices.Delete(slices.Clone(factors), i, i+1)
	usable := slices.ContainsFunc(rest, func(f storage.SecondFactor) bool { return f.VerifiedAt != nil && eff.Allows(f.Method) })
	if factors[i].VerifiedAt != nil && eff.SecondFactor == policy.Required && !usable {
		a.audit(r, "second_factor_remove_refused", u, "refused", "method="+string(method)+" reason=last_required")
		return a.render(w, r, st, http.StatusConflict, page{Error: a.say(r, "account.methods.last_required")})
	}
	if err := a.cfg.Store.DeleteSecondFactor(ctx, u.ID, method); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if !slices.ContainsFunc(rest, func(f storage.SecondFactor) bool { return f.VerifiedAt != nil }) {
		if err := a.cfg.Store.ReplaceRecoveryCodes(ctx, u.ID, nil, a.cfg.Now()); err != nil {
			return err
		}
	}
	a.audit(r, "second_factor_removed", u, "ok", "method="+string(method))
	a.cfg.Login.Notify(r, u, i18n.M("notice.removed_subject"), i18n.M("notice.removed", "Method", i18n.M(login.MethodLabel(method))))
	http.Redirect(w, r, "/account?done=removed", http.StatusSeeOther)
	return nil
}

// preferMethod makes a verified method the one sign-ins use first.
func (a *Account) preferMethod(w http.ResponseWriter, r *http.Request) error {
	st, err := a.user(w, r)
	if err != nil {
		return err
	}
	method, err := storage.ParseMethod(r.PostFormValue("method"))
	if err != nil {
		err = storage.ErrNotFound // a name that is no method is on no account
	} else {
		err = a.cfg.Store.SetPreferredFactor(r.Context(), st.User.ID, method)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return a.render(w, r, st, http.StatusBadRequest, page{Error: a.say(r, "account.methods.only_verified")})
	} else if err != nil {
		return err
	}
	a.audit(r, "second_factor_preferred", st.User, "ok", "method="+string(method))
	http.Redirect(w, r, "/account?done=preferred", http.StatusSeeOther)
	return nil
}

// recoveryCodes replaces the recovery codes and shows the new set once;
// the old set stops working.
func (a *Account) recoveryCodes(w http.ResponseWriter, r *http.Request) error {
	st, err := a.user(w, r)
	if err != nil {
		return err
	}
	if len(st.Factors) == 0 {
		return a.render(w, r, st, http.StatusBadRequest, page{Error: a.say(r, "account.recovery.need_method")})
	}
	n, err := a.cfg.Login.ShowNewRecoveryCodes(w, r, st.User, "/account")
	if err != nil {
		return err
	}
	a.audit(r, "recovery_codes_regenerated", st.User, "ok", fmt.Sprintf("count=%d", n))
	a.cfg.Login.Notify(r, st.User, i18n.M("notice.recovery_codes_subject"), i18n.M("notice.recovery_codes"))
	return nil
}
