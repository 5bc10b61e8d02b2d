package account

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/storage"
)

// The account pages sign in like any application: /account/login sends
// the browser through /authorize as the built-in public client ClientID
// (code + PKCE), so the password, the second factor, step-up and policy
// are the sign-in flow's own. What the account pages then trust is the
// SSO session that sign-in leaves in the browser.

// ClientID is the built-in client of the account pages.
const ClientID = "twofold-account"

// CallbackPath is the account client's redirect path under the issuer.
const CallbackPath = "/account/callback"

// flowTTL bounds a sign-in to the account pages, like any sign-in.
const flowTTL = 30 * time.Minute

// signInNeeded is the error user returns when the browser has no session
// the account pages accept. The page wrapper (withSignIn) turns it into a
// redirect to /account/login, which returns to next.
type signInNeeded struct{ next string }

func (e *signInNeeded) Error() string { return "sign-in to the account pages needed" }

// withSignIn redirects to the account sign-in when h needs one, so that a
// handler only has to return user's error.
func withSignIn(h login.HandlerFunc) login.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		var need *signInNeeded
		if errors.As(err, &need) {
			http.Redirect(w, r, "/account/login?next="+url.QueryEscape(need.next), http.StatusSeeOther)
			return nil
		}
		return err
	}
}

// user returns who is signed in to the account pages: the browser's live
// SSO session, usable under the user's effective policy at the account
// client, with a second factor completed in the last login.MFAFreshness
// when the user has one. Otherwise the error is a *signInNeeded, which the
// pages' wrapper answers with a redirect to /account/login (and back here
// afterwards, for a GET).
func (a *Account) user(w http.ResponseWriter, r *http.Request) (*login.SignedIn, error) {
	st, err := a.cfg.Login.SignedInAt(r, ClientID)
	if err != nil {
		return nil, err
	}
	if !enough(st) {
		return nil, &signInNeeded{next: returnPath(r)}
	}
	if err := a.cfg.Store.TouchSession(r.Context(), st.Session.ID, a.cfg.Now()); err != nil {
		return nil, err
	}
	return st, nil
}

// enough reports whether a session is enough for the account pages.
func enough(st *login.SignedIn) bool {
	return st != nil && (!needsMFA(st) || st.MFAFresh)
}

// needsMFA reports whether the account pages ask the user for a second
// factor: whenever they have one the policy allows, as the sign-in does
// for a request of the two-factor level (API accounts stay exempt where
// the policy says so).
func needsMFA(st *login.SignedIn) bool {
	if st.User.APIAccount && st.Policy.ExemptAPIAccounts {
		return false
	}
	return slices.ContainsFunc(st.Factors, func(f storage.SecondFactor) bool { return st.Policy.Allows(f.Method) })
}

// returnPath is where a sign-in started by r comes back to: the page
// itself for a GET, the account page after a form post (never replayed).
func returnPath(r *http.Request) string {
	if r.Method == http.MethodGet && safeNext(r.URL.RequestURI()) {
		return r.URL.RequestURI()
	}
	return "/account"
}

// safeNext allows only local account pages as a place to return to, so
// the sign-in cannot be made an open redirect.
func safeNext(p string) bool {
	if len(p) > 512 || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return false
	}
	path, _, _ := strings.Cut(p, "?")
	return path == "/account" || strings.HasPrefix(path, "/account/")
}

// flowCookie names the cookie that carries one account sign-in's state
// and PKCE verifier between /account/login and the callback.
func (a *Account) flowCookie() string {
	if a.cfg.Secure {
		return "__Host-twofold_account"
	}
	return "twofold_account"
}

func (a *Account) setFlowCookie(w http.ResponseWriter, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: a.flowCookie(), Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: a.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// callbackURL is the account client's redirect URI.
func (a *Account) callbackURL() string {
	return strings.TrimSuffix(a.cfg.Issuer, "/") + CallbackPath
}

// login starts a sign-in to the account pages: an authorization request
// of the account client with PKCE (S256), asking for the two-factor level
// when the signed-in user has a factor, so a session whose second factor
// is stale steps up instead of looping.
func (a *Account) login(w http.ResponseWriter, r *http.Request) error {
	next := r.URL.Query().Get("next")
	if !safeNext(next) {
		next = "/account"
	}
	st, err := a.cfg.Login.SignedInAt(r, ClientID)
	if err != nil {
		return err
	}
	if enough(st) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	state, verifier := keyring.RandomToken(16), keyring.RandomToken(32)
	flow := url.Values{"state": {state}, "verifier": {verifier}, "next": {next}}
	q := url.Values{"client_id": {ClientID}, "redirect_uri": {a.callbackURL()},
		"response_type": {"code"}, "scope": {"openid"}, "state": {state},
		"code_challenge": {pkceChallenge(verifier)}, "code_challenge_method": {"S256"}}
	if st != nil && needsMFA(st) {
		q.Set("acr_values", login.ACRTwoFactor)
		flow.Set("acr", "1")
	}
	a.setFlowCookie(w, base64.RawURLEncoding.EncodeToString([]byte(flow.Encode())), flowTTL)
	http.Redirect(w, r, "/authorize?"+q.Encode(), http.StatusSeeOther)
	return nil
}

func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

var errSignIn = login.PageError(http.StatusBadRequest, i18n.M("account.signin.unfinished_heading"), i18n.M("account.signin.unfinished"))

// callback finishes a sign-in to the account pages: it checks the state
// against this browser's cookie, redeems the code (so no code is left to
// redeem), and returns to the page the sign-in began from. The SSO session
// the sign-in left is what counts.
func (a *Account) callback(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(a.flowCookie())
	if err != nil {
		return errSignIn
	}
	a.setFlowCookie(w, "", -time.Second)
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return errSignIn
	}
	flow, err := url.ParseQuery(string(raw))
	q := r.URL.Query()
	if err != nil || flow.Get("state") == "" || subtle.ConstantTimeCompare([]byte(flow.Get("state")), []byte(q.Get("state"))) != 1 {
		return errSignIn
	}
	if e := q.Get("error"); e != "" {
		a.cfg.Logger.InfoContext(r.Context(), "account sign-in refused", "error", e)
		return login.PageError(http.StatusForbidden, i18n.M("account.signin.refused_heading"), i18n.M("account.signin.refused"))
	}
	if err := a.redeem(r, q.Get("code"), flow.Get("verifier")); err != nil {
		return err
	}
	next := flow.Get("next")
	if !safeNext(next) {
		next = "/account"
	}
	if flow.Get("acr") == "1" { // a second round would loop: say so instead
		if st, err := a.cfg.Login.SignedInAt(r, ClientID); err != nil {
			return err
		} else if !enough(st) {
			return login.PageError(http.StatusForbidden, i18n.M("account.signin.needs_factor_heading"), i18n.M("account.signin.needs_factor"))
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// redeem spends the code at the provider, as the token endpoint would: the
// tokens are not needed, but a code must not be left live. A code the
// provider refuses ends this sign-in; a failure of the provider's is ours
// (an outage gets the "try again shortly" page).
func (a *Account) redeem(r *http.Request, code, verifier string) error {
	if code == "" || len(code) > 512 {
		return errSignIn
	}
	err := a.cfg.Redeem.RedeemCode(r.Context(), ClientID, a.callbackURL(), code, verifier)
	if err == nil {
		return nil
	}
	var refused *oidc.Error
	if errors.As(err, &refused) && refused.ErrorType != oidc.ServerError {
		a.cfg.Logger.WarnContext(r.Context(), "account code exchange failed", "error", refused.ErrorType, "description", refused.Description)
		return errSignIn
	}
	return fmt.Errorf("account code exchange: %w", err)
}
