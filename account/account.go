// Package account is the self-service account page (/account): a
// signed-in user's methods, password, recovery codes and sessions. It is
// a built-in public client of the provider (ClientID) that signs in
// through the normal sign-in pages like any application (signin.go), and
// then trusts the SSO session that sign-in leaves in the browser.
//
// It imports a small surface of login, which sits on the same floor and
// never imports it back: the page wrapper and rendering (Page, Render,
// PageError), the browser's session (SignedInAt, SessionID, ClearSession),
// the password check of a signed-in user (Reauthenticate), the enrolment
// pages (MountEnrolment, the same code as the sign-in's forced enrolment),
// new recovery codes and notices. The provider it knows only through the
// one method it is given (Redeemer).
//
// Every change is audited with the user as actor; every form is a POST
// behind cross-origin protection, and every page works without
// JavaScript.
package account

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// Store is what the account pages need from storage.
type Store interface {
	Client(ctx context.Context, id string) (*storage.Client, error)
	TouchSession(ctx context.Context, id string, now time.Time) error
	Sessions(ctx context.Context, userID string, now time.Time) ([]storage.Session, error)
	EndUserSession(ctx context.Context, userID, sessionID string, now time.Time) error
	ChangePassword(ctx context.Context, userID, hash, keepSessionID string, now time.Time) error
	SecondFactors(ctx context.Context, userID string) ([]storage.SecondFactor, error)
	DeleteSecondFactor(ctx context.Context, userID string, method storage.Method) error
	SetPreferredFactor(ctx context.Context, userID string, method storage.Method) error
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, now time.Time) error
	RecoveryCodesLeft(ctx context.Context, userID string) (int64, error)
	Audit(ctx context.Context, e *storage.AuditEvent) error
}

// Redeemer spends the authorization code of the account client as the
// token endpoint would (op.Provider.RedeemCode): a code must not be left
// live, though the account pages need no tokens. A refusal is an
// *oidc.Error of the client's kind.
type Redeemer interface {
	RedeemCode(ctx context.Context, clientID, redirectURI, code, verifier string) error
}

// Config wires the account pages.
type Config struct {
	Store  Store
	Login  *login.Service
	Redeem Redeemer
	// Passwords hashes a new password: the sign-in's hasher, so that the
	// cap on concurrent hashes holds for both. PasswordRule is what a new
	// password must satisfy, wherever it is set.
	Passwords    *password.Hasher
	PasswordRule password.Rule
	Issuer       string
	Secure       bool // Secure cookies (everywhere but development on http)
	ClientIP     func(*http.Request) string
	Now          func() time.Time
	Logger       *slog.Logger
}

// Account serves the account pages.
type Account struct{ cfg Config }

// New returns the account pages.
func New(cfg Config) *Account {
	if cfg.ClientIP == nil {
		cfg.ClientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	return &Account{cfg: cfg}
}

// Mount registers the account pages on mux, each a login page that
// redirects to the account sign-in when it needs one.
func (a *Account) Mount(mux *http.ServeMux) {
	page := func(h login.HandlerFunc) http.Handler { return a.cfg.Login.Page(withSignIn(h)) }
	mux.Handle("GET /account/login", page(a.login))
	mux.Handle("GET "+CallbackPath, page(a.callback))
	mux.Handle("GET /account", page(a.show))
	mux.Handle("POST /account/methods/remove", page(a.removeMethod))
	mux.Handle("POST /account/methods/preferred", page(a.preferMethod))
	a.cfg.Login.MountEnrolment(mux, login.Enrolment{Path: addPath, ClientID: ClientID, Done: "/account",
		User: func(w http.ResponseWriter, r *http.Request) (*storage.User, error) {
			st, err := a.user(w, r)
			if err != nil {
				return nil, err
			}
			return st.User, nil
		}}, page)
	mux.Handle("POST /account/password", page(a.changePassword))
	mux.Handle("POST /account/recovery-codes", page(a.recoveryCodes))
	mux.Handle("POST /account/sessions/end", page(a.endSession))
	mux.Handle("POST /account/logout", page(a.logout))
}

// audit records a change a user made to their own account.
func (a *Account) audit(r *http.Request, typ string, u *storage.User, outcome, detail string) {
	e := &storage.AuditEvent{CreatedAt: a.cfg.Now(), Type: typ, Actor: "user:" + u.ID, UserID: u.ID, ClientID: ClientID,
		IP: a.cfg.ClientIP(r), Outcome: outcome, Detail: detail}
	if err := a.cfg.Store.Audit(r.Context(), e); err != nil {
		a.cfg.Logger.ErrorContext(r.Context(), "audit write failed", "type", typ, "err", err)
	}
}

// notices are the confirmations shown after a change (PRG: the query
// names one, so no text from the URL reaches the page).
var notices = map[string]string{
	"removed":   "account.done.removed",
	"preferred": "account.done.preferred",
	"password":  "account.done.password",
	"ended":     "account.done.ended",
}

// say says a catalogue message without data in the page's language.
func (a *Account) say(r *http.Request, id string) string { return a.cfg.Login.Say(r, i18n.M(id)) }

// page is the data of account.html.
type page struct {
	Title, Username, Name, Notice, Error string
	Methods                              []methodRow
	Add                                  []addLink
	Verified                             bool // the user has a verified method
	RecoveryLeft                         int64
	Sessions                             []sessionRow
	CurrentError, NewError               string // password form
	PasswordMin                          int    // the rule's fewest characters, for the form's hint
}

func (a *Account) show(w http.ResponseWriter, r *http.Request) error {
	st, err := a.user(w, r)
	if err != nil {
		return err
	}
	p := page{}
	if id, ok := notices[r.URL.Query().Get("done")]; ok {
		p.Notice = a.say(r, id)
	}
	return a.render(w, r, st, http.StatusOK, p)
}

// render shows the account page of st with p's notice, error or form
// messages.
func (a *Account) render(w http.ResponseWriter, r *http.Request, st *login.SignedIn, status int, p page) error {
	ctx, u := r.Context(), st.User
	factors, err := a.cfg.Store.SecondFactors(ctx, u.ID)
	if err != nil {
		return err
	}
	p.Title, p.Username, p.Name, p.PasswordMin = "account.title", u.Username, u.Name, a.cfg.PasswordRule.Min()
	p.Methods, p.Verified = methodRows(factors, a.cfg.Login.Say(r, i18n.M("format.date"))), slices.ContainsFunc(factors, func(f storage.SecondFactor) bool { return f.VerifiedAt != nil })
	p.Add = addLinks(st.Policy, factors)
	if p.RecoveryLeft, err = a.cfg.Store.RecoveryCodesLeft(ctx, u.ID); err != nil {
		return err
	}
	if p.Sessions, err = a.sessionRows(ctx, u, st.Session, a.cfg.Login.Say(r, i18n.M("format.datetime"))); err != nil {
		return err
	}
	a.cfg.Login.Render(w, r, status, "account.html", p)
	return nil
}
