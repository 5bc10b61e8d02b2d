package login

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twofold-id/twofold/login/contact"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// The self-service account page (/account): a signed-in user's methods,
// password, recovery codes and sessions. Every change is audited with the
// user as actor; every form is a POST behind cross-origin protection.

// accountStore is what the account pages need beyond the sign-in flow's Store.
type accountStore interface {
	Sessions(ctx context.Context, userID string, now time.Time) ([]storage.Session, error)
	EndUserSession(ctx context.Context, userID, sessionID string, now time.Time) error
	ChangePassword(ctx context.Context, userID, hash, keepSessionID string, now time.Time) error
}

// mountAccount registers the account pages. provider serves the OIDC
// endpoints; the callback redeems its code there, in-process.
func (s *Service) mountAccount(mux *http.ServeMux, page func(handlerFunc) http.Handler, provider http.Handler) {
	mux.Handle("GET /account/login", page(s.accountLogin))
	mux.Handle("GET "+AccountCallbackPath, page(func(w http.ResponseWriter, r *http.Request) error {
		return s.accountCallback(w, r, provider)
	}))
	mux.Handle("GET /account", page(s.showAccount))
	mux.Handle("POST /account/methods/remove", page(s.accountRemoveMethod))
	mux.Handle("POST /account/methods/preferred", page(s.accountPreferMethod))
	mux.Handle("POST /account/password", page(s.accountChangePassword))
	mux.Handle("POST /account/recovery-codes", page(s.accountRecoveryCodes))
	mux.Handle("POST /account/sessions/end", page(s.accountEndSession))
	mux.Handle("POST /account/logout", page(s.accountLogout))
}

func (s *Service) accountStore() (accountStore, error) {
	st, ok := s.cfg.Store.(accountStore)
	if !ok {
		return nil, errors.New("login: the store lacks the account methods")
	}
	return st, nil
}

// accountAudit records a change a user made to their own account.
func (s *Service) accountAudit(r *http.Request, typ string, u *storage.User, outcome, detail string) {
	e := &storage.AuditEvent{CreatedAt: s.cfg.Now(), Type: typ, Actor: "user:" + u.ID, UserID: u.ID, ClientID: AccountClientID,
		IP: s.cfg.ClientIP(r), Outcome: outcome, Detail: detail}
	if err := s.cfg.Store.Audit(r.Context(), e); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "audit write failed", "type", typ, "err", err)
	}
}

// accountNotices are the confirmations shown after a change (PRG: the
// query names one, so no text from the URL reaches the page).
var accountNotices = map[string]string{
	"removed":   "The method was removed.",
	"preferred": "Your preferred method was changed. It is used first the next time you sign in.",
	"password":  "Your password was changed. Your other sessions were ended.",
	"ended":     "The session was ended. That device must sign in again.",
}

type methodRow struct {
	Method                       storage.Method
	Label, Destination, Verified string
	Preferred, Pending           bool
}

type addLink struct{ Label, Href, ID string }

type sessionRow struct {
	ID, Created, LastSeen, IP, UserAgent, Clients string
	Current                                       bool
}

// accountPage is the data of account.html.
type accountPage struct {
	Title, Username, Name, Notice, Error string
	Methods                              []methodRow
	Add                                  []addLink
	Verified                             bool // the user has a verified method
	RecoveryLeft                         int64
	Sessions                             []sessionRow
	CurrentError, NewError               string // password form
	PasswordMin                          int    // the rule's fewest characters, for the form's hint
}

func (s *Service) showAccount(w http.ResponseWriter, r *http.Request) error {
	u, sess, err := s.accountUser(w, r)
	if err != nil {
		return err
	}
	return s.renderAccount(w, r, u, sess, http.StatusOK, accountPage{Notice: accountNotices[r.URL.Query().Get("done")]})
}

func (s *Service) renderAccount(w http.ResponseWriter, r *http.Request, u *storage.User, sess *storage.Session, status int, p accountPage) error {
	ctx := r.Context()
	eff, err := s.policyFor(ctx, AccountClientID, u.ID)
	if err != nil {
		return err
	}
	factors, err := s.cfg.Store.SecondFactors(ctx, u.ID)
	if err != nil {
		return err
	}
	p.Title, p.Username, p.Name, p.PasswordMin = "Your account", u.Username, u.Name, s.cfg.PasswordRule.Min()
	p.Methods, p.Verified = methodRows(factors), slices.ContainsFunc(factors, func(f storage.SecondFactor) bool { return f.VerifiedAt != nil })
	p.Add = addLinks(eff, factors)
	if p.RecoveryLeft, err = s.cfg.Store.RecoveryCodesLeft(ctx, u.ID); err != nil {
		return err
	}
	if p.Sessions, err = s.sessionRows(ctx, u, sess); err != nil {
		return err
	}
	s.render(w, r, status, "account.html", p)
	return nil
}

func methodRows(factors []storage.SecondFactor) []methodRow {
	rows := make([]methodRow, 0, len(factors))
	for _, f := range factors {
		row := methodRow{Method: f.Method, Label: methodLabels[f.Method], Preferred: f.Preferred && f.VerifiedAt != nil, Pending: f.VerifiedAt == nil}
		switch f.Method {
		case storage.MethodEmail:
			row.Destination = contact.MaskEmail(f.Destination)
		case storage.MethodSMS, storage.MethodVoice:
			row.Destination = contact.MaskPhone(f.Destination)
		}
		if f.VerifiedAt != nil {
			row.Verified = f.VerifiedAt.UTC().Format("2 Jan 2006")
		}
		if row.Label == "" {
			row.Label = string(f.Method)
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
	}{{storage.MethodTOTP, "totp"}, {storage.MethodSMS, "phone"}, {storage.MethodEmail, "email"}} {
		has := slices.ContainsFunc(factors, func(f storage.SecondFactor) bool { return f.Method == m.method && f.VerifiedAt != nil })
		if eff.Allows(m.method) && !has {
			out = append(out, addLink{Label: methodLabels[m.method], Href: "/login/enrol/" + m.path, ID: "add-" + string(m.method)})
		}
	}
	return out
}

func (s *Service) sessionRows(ctx context.Context, u *storage.User, current *storage.Session) ([]sessionRow, error) {
	st, err := s.accountStore()
	if err != nil {
		return nil, err
	}
	sessions, err := st.Sessions(ctx, u.ID, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	rows := make([]sessionRow, 0, len(sessions))
	for _, x := range sessions {
		var clients []string
		for _, id := range x.Clients {
			if _, ok := names[id]; !ok {
				names[id] = id
				if c, err := s.cfg.Store.Client(ctx, id); err == nil && c.Name != "" {
					names[id] = c.Name
				}
			}
			clients = append(clients, names[id])
		}
		rows = append(rows, sessionRow{ID: x.ID, Created: stamp(x.CreatedAt), LastSeen: stamp(x.LastSeenAt), IP: x.IP,
			UserAgent: x.UserAgent, Clients: strings.Join(clients, ", "), Current: x.ID == current.ID})
	}
	return rows, nil
}

func stamp(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

// accountRemoveMethod removes one method. Under a policy that requires a
// second factor, the last one the policy accepts stays. With the last
// verified method gone, the recovery codes go too: they stand in for a
// factor the user no longer has.
func (s *Service) accountRemoveMethod(w http.ResponseWriter, r *http.Request) error {
	u, sess, err := s.accountUser(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	method, _ := storage.ParseMethod(r.PostFormValue("method")) // "" for no method: on no account
	factors, err := s.cfg.Store.SecondFactors(ctx, u.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(factors, func(f storage.SecondFactor) bool { return f.Method == method })
	if i < 0 {
		return s.renderAccount(w, r, u, sess, http.StatusBadRequest, accountPage{Error: "That method is not on your account."})
	}
	eff, err := s.policyFor(ctx, AccountClientID, u.ID)
	if err != nil {
		return err
	}
	rest := slices.Delete(slices.Clone(factors), i, i+1)
	usable := slices.ContainsFunc(rest, func(f storage.SecondFactor) bool { return f.VerifiedAt != nil && eff.Allows(f.Method) })
	if factors[i].VerifiedAt != nil && eff.SecondFactor == policy.Required && !usable {
		s.accountAudit(r, "second_factor_remove_refused", u, "refused", "method="+string(method)+" reason=last_required")
		return s.renderAccount(w, r, u, sess, http.StatusConflict, accountPage{Error: "You cannot remove your last second factor: " +
			"your organisation requires one. Add another method first, then remove this one."})
	}
	if err := s.cfg.Store.DeleteSecondFactor(ctx, u.ID, method); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if !slices.ContainsFunc(rest, func(f storage.SecondFactor) bool { return f.VerifiedAt != nil }) {
		if err := s.cfg.Store.ReplaceRecoveryCodes(ctx, u.ID, nil, s.cfg.Now()); err != nil {
			return err
		}
	}
	s.accountAudit(r, "second_factor_removed", u, "ok", "method="+string(method))
	s.notify(r, u, "A sign-in method was removed from your account",
		methodLabels[method]+" can no longer be used as your second factor.")
	http.Redirect(w, r, "/account?done=removed", http.StatusSeeOther)
	return nil
}

// accountPreferMethod makes a verified method the one sign-ins use first.
func (s *Service) accountPreferMethod(w http.ResponseWriter, r *http.Request) error {
	u, sess, err := s.accountUser(w, r)
	if err != nil {
		return err
	}
	method, err := storage.ParseMethod(r.PostFormValue("method"))
	if err != nil {
		err = storage.ErrNotFound // a name that is no method is on no account
	} else {
		err = s.cfg.Store.SetPreferredFactor(r.Context(), u.ID, method)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return s.renderAccount(w, r, u, sess, http.StatusBadRequest, accountPage{Error: "Only a verified method can be preferred."})
	} else if err != nil {
		return err
	}
	s.accountAudit(r, "second_factor_preferred", u, "ok", "method="+string(method))
	http.Redirect(w, r, "/account?done=preferred", http.StatusSeeOther)
	return nil
}

// accountChangePassword changes the password after checking the current
// one (re-authentication: a session left open is not enough), then ends
// every other session of the user and the tokens issued under them.
func (s *Service) accountChangePassword(w http.ResponseWriter, r *http.Request) error {
	u, sess, err := s.accountUser(w, r)
	if err != nil {
		return err
	}
	current, next, again := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("new_password_again")
	fail := func(status int, p accountPage) error { return s.renderAccount(w, r, u, sess, status, p) }
	refused, _ := password.AsError(s.cfg.PasswordRule.Check(next, u.Username)) // the one password rule
	switch {
	case current == "":
		return fail(http.StatusBadRequest, accountPage{CurrentError: "Enter your current password."})
	case refused != nil:
		return fail(http.StatusBadRequest, accountPage{NewError: "Your new password " + refused.Message + "."})
	case next != again:
		return fail(http.StatusBadRequest, accountPage{NewError: "The new passwords do not match. Type the same password twice."})
	}
	// A session left open must not become a password-guessing oracle: the
	// current password counts and backs off like the sign-in's.
	if held, err := s.guardAccountPassword(w, r, u.ID); err != nil || held != nil {
		if err != nil {
			return err
		}
		return fail(http.StatusTooManyRequests, *held)
	}
	ok, err := s.cfg.Passwords.Verify(r.Context(), u.PasswordHash, current)
	if errors.Is(err, ErrBusy) {
		w.Header().Set("Retry-After", "2")
		return fail(http.StatusTooManyRequests, accountPage{Error: "Too many sign-ins right now. Try again in a few seconds."})
	} else if err != nil {
		return err
	}
	if !ok {
		s.accountAudit(r, "password_change_failed", u, "rejected", "reason=wrong_current_password")
		if err := s.failure(r, "password", u.ID, ""); err != nil {
			return err
		}
		return fail(http.StatusUnauthorized, accountPage{CurrentError: "That is not your current password."})
	}
	hash, err := s.cfg.Passwords.Hash(r.Context(), next)
	if err != nil {
		return err
	}
	st, err := s.accountStore()
	if err != nil {
		return err
	}
	if err := st.ChangePassword(r.Context(), u.ID, hash, sess.ID, s.cfg.Now()); err != nil {
		return err
	}
	s.accountAudit(r, "password_changed", u, "ok", "other_sessions=ended")
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
	return nil
}

// guardAccountPassword applies the IP limit and the account's backoff or
// lock before the current password is checked; the user is signed in, so
// the page may say why.
func (s *Service) guardAccountPassword(w http.ResponseWriter, r *http.Request, userID string) (*accountPage, error) {
	wait, err := s.ipBlocked(r)
	if err != nil {
		return nil, err
	}
	if wait == 0 {
		var held bool
		wait, held, err = s.accountHeld(r, userID)
		switch {
		case err != nil || !held:
			return nil, err
		case wait == 0: // locked
			return &accountPage{CurrentError: "Too many wrong passwords: your account is locked. Ask your administrator to unlock it."}, nil
		}
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
	return &accountPage{CurrentError: fmt.Sprintf("Too many wrong passwords. Try again in %s.", humanWait(wait))}, nil
}

// accountRecoveryCodes replaces the recovery codes and shows the new set
// once; the old set stops working.
func (s *Service) accountRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	u, sess, err := s.accountUser(w, r)
	if err != nil {
		return err
	}
	factors, err := s.codeFactors(r.Context(), u.ID)
	if err != nil {
		return err
	}
	if len(factors) == 0 {
		return s.renderAccount(w, r, u, sess, http.StatusBadRequest, accountPage{Error: "Recovery codes stand in for a second factor. Add a method first."})
	}
	codes, err := s.newRecoveryCodes(r.Context(), u.ID)
	if err != nil {
		return err
	}
	s.accountAudit(r, "recovery_codes_regenerated", u, "ok", fmt.Sprintf("count=%d", len(codes)))
	s.notify(r, u, "New recovery codes were made for your account", "Your old recovery codes no longer work.")
	// A data: URL is safe here: it is built from our own text, and marked
	// so because html/template otherwise replaces it.
	download := template.URL("data:text/plain;charset=utf-8," + url.PathEscape(recoveryFile(s.cfg.Issuer, u.Username, codes)))
	s.render(w, r, http.StatusOK, "recovery_codes.html", map[string]any{"Title": "Save your recovery codes", "Codes": codes,
		"Download": download, "Continue": "/account"})
	return nil
}

// accountEndSession ends one of the user's sessions; ending this one is
// signing out.
func (s *Service) accountEndSession(w http.ResponseWriter, r *http.Request) error {
	u, sess, err := s.accountUser(w, r)
	if err != nil {
		return err
	}
	id := r.PostFormValue("session")
	if id == sess.ID {
		return s.accountLogout(w, r)
	}
	st, err := s.accountStore()
	if err != nil {
		return err
	}
	if err := st.EndUserSession(r.Context(), u.ID, id, s.cfg.Now()); errors.Is(err, storage.ErrNotFound) {
		return s.renderAccount(w, r, u, sess, http.StatusBadRequest, accountPage{Error: "That session has already ended."})
	} else if err != nil {
		return err
	}
	s.accountAudit(r, "session_ended", u, "ok", "by=user")
	http.Redirect(w, r, "/account?done=ended", http.StatusSeeOther)
	return nil
}

// accountLogout ends this browser's session and its tokens (telling the
// clients that registered for back-channel logout), and clears the cookie.
func (s *Service) accountLogout(w http.ResponseWriter, r *http.Request) error {
	u, sess, err := s.accountUser(w, r)
	if err != nil {
		return err
	}
	st, err := s.accountStore()
	if err != nil {
		return err
	}
	if err := st.EndUserSession(r.Context(), u.ID, sess.ID, s.cfg.Now()); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	s.ClearSession(w)
	s.accountAudit(r, "logout", u, "ok", "by=account_page")
	http.Redirect(w, r, "/logged-out", http.StatusSeeOther)
	return nil
}
