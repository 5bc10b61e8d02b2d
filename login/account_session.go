package login

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// The account pages sign in like any application: /account/login sends
// the browser through /authorize as the built-in public client
// AccountClientID (code + PKCE), so the password, the second factor,
// step-up and policy are the sign-in flow's own. What the account pages
// then trust is the SSO session that sign-in leaves in the browser.

// AccountClientID is the built-in client of the account pages.
const AccountClientID = "twofold-account"

// AccountCallbackPath is the account client's redirect path under the issuer.
const AccountCallbackPath = "/account/callback"

// accountFlowTTL bounds a sign-in to the account pages, like any sign-in.
const accountFlowTTL = 30 * time.Minute

// signInNeeded is the error accountUser returns when the browser has no
// session the account pages accept. The page wrapper in Mount (withSignIn)
// turns it into a redirect to /account/login, which returns to next.
type signInNeeded struct{ next string }

func (e *signInNeeded) Error() string { return "sign-in to the account pages needed" }

// withSignIn redirects to the account sign-in when h needs one, so that a
// handler only has to return accountUser's error.
func withSignIn(h handlerFunc) handlerFunc {
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

// accountUser returns the signed-in user of the account pages and their
// session: the browser's live SSO session, usable under the user's
// effective policy at the account client, with a second factor completed
// in the last MFAFreshness when the user has one. Otherwise the error is a
// *signInNeeded, which the pages' wrapper answers with a redirect to
// /account/login (and back here afterwards, for a GET).
func (s *Service) accountUser(w http.ResponseWriter, r *http.Request) (*storage.User, *storage.Session, error) {
	st, err := s.accountState(r)
	if err != nil {
		return nil, nil, err
	}
	if st.sess == nil || (st.needsMFA && !s.mfaFresh(st.sess)) {
		return nil, nil, &signInNeeded{next: returnPath(r)}
	}
	if err := s.cfg.Store.TouchSession(r.Context(), st.sess.ID, s.cfg.Now()); err != nil {
		return nil, nil, err
	}
	return st.user, st.sess, nil
}

// accountState is what the browser's session is worth to the account
// pages: sess is nil when there is no usable session.
type accountState struct {
	user     *storage.User
	sess     *storage.Session
	eff      policy.Effective
	needsMFA bool // the user has a factor the account policy allows
}

func (s *Service) accountState(r *http.Request) (accountState, error) {
	ctx := r.Context()
	id := s.SessionID(r)
	if id == "" {
		return accountState{}, nil
	}
	sess, err := s.cfg.Store.ActiveSession(ctx, id, s.cfg.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return accountState{}, nil
	} else if err != nil {
		return accountState{}, err
	}
	u, err := s.cfg.Store.User(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return accountState{}, nil
	} else if err != nil {
		return accountState{}, err
	}
	eff, err := s.policyFor(ctx, AccountClientID, u.ID)
	if err != nil {
		return accountState{}, err
	}
	if ok, err := s.sessionUsable(ctx, sess, u, eff); !ok || err != nil {
		return accountState{}, err
	}
	mfa, err := s.accountNeedsMFA(ctx, u, eff)
	return accountState{user: u, sess: sess, eff: eff, needsMFA: mfa}, err
}

// accountNeedsMFA reports whether the account pages ask u for a second
// factor: whenever u has one the policy allows, as decide does for a
// request of the two-factor level (API accounts stay exempt where the
// policy says so).
func (s *Service) accountNeedsMFA(ctx context.Context, u *storage.User, eff policy.Effective) (bool, error) {
	if u.APIAccount && eff.ExemptAPIAccounts {
		return false, nil
	}
	factors, err := s.codeFactors(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(factors, func(f storage.SecondFactor) bool { return eff.Allows(f.Method) }), nil
}

// returnPath is where a sign-in started by r comes back to: the page
// itself for a GET, the account page after a form post (never replayed).
func returnPath(r *http.Request) string {
	if r.Method == http.MethodGet && safeNext(r.URL.RequestURI()) {
		return r.URL.RequestURI()
	}
	return "/account"
}

// safeNext allows only local account and enrolment pages as a place to
// return to, so the sign-in cannot be made an open redirect.
func safeNext(p string) bool {
	if len(p) > 512 || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return false
	}
	path, _, _ := strings.Cut(p, "?")
	return path == "/account" || strings.HasPrefix(path, "/account/") || strings.HasPrefix(path, "/login/enrol")
}

// accountFlowCookie names the cookie that carries one account sign-in's
// state and PKCE verifier between /account/login and the callback.
func (s *Service) accountFlowCookie() string {
	if s.cfg.Secure {
		return "__Host-twofold_account"
	}
	return "twofold_account"
}

// issuerURL returns the issuer joined with path.
func (s *Service) issuerURL(path string) string {
	return strings.TrimSuffix(s.cfg.Issuer, "/") + path
}

// accountLogin starts a sign-in to the account pages: an authorization
// request of the account client with PKCE (S256), asking for the
// two-factor level when the signed-in user has a factor, so a session
// whose second factor is stale steps up instead of looping.
func (s *Service) accountLogin(w http.ResponseWriter, r *http.Request) error {
	next := r.URL.Query().Get("next")
	if !safeNext(next) {
		next = "/account"
	}
	st, err := s.accountState(r)
	if err != nil {
		return err
	}
	if st.sess != nil && (!st.needsMFA || s.mfaFresh(st.sess)) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	state, verifier := keyring.RandomToken(16), keyring.RandomToken(32)
	flow := url.Values{"state": {state}, "verifier": {verifier}, "next": {next}}
	q := url.Values{"client_id": {AccountClientID}, "redirect_uri": {s.issuerURL(AccountCallbackPath)},
		"response_type": {"code"}, "scope": {"openid"}, "state": {state},
		"code_challenge": {pkceChallenge(verifier)}, "code_challenge_method": {"S256"}}
	if st.needsMFA {
		q.Set("acr_values", ACRTwoFactor)
		flow.Set("acr", "1")
	}
	s.setCookie(w, s.accountFlowCookie(), base64.RawURLEncoding.EncodeToString([]byte(flow.Encode())), accountFlowTTL)
	http.Redirect(w, r, "/authorize?"+q.Encode(), http.StatusSeeOther)
	return nil
}

func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

var errAccountSignIn = &pageError{http.StatusBadRequest, "This sign-in cannot be finished",
	"It has expired or was started in another window. Open your account page again."}

// accountCallback finishes a sign-in to the account pages: it checks the
// state against this browser's cookie, redeems the code at the token
// endpoint (so no code is left to redeem), and returns to the page the
// sign-in began from. The SSO session the sign-in left is what counts.
func (s *Service) accountCallback(w http.ResponseWriter, r *http.Request, provider http.Handler) error {
	c, err := r.Cookie(s.accountFlowCookie())
	if err != nil {
		return errAccountSignIn
	}
	s.setCookie(w, s.accountFlowCookie(), "", -time.Second)
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return errAccountSignIn
	}
	flow, err := url.ParseQuery(string(raw))
	q := r.URL.Query()
	if err != nil || flow.Get("state") == "" || subtle.ConstantTimeCompare([]byte(flow.Get("state")), []byte(q.Get("state"))) != 1 {
		return errAccountSignIn
	}
	if e := q.Get("error"); e != "" {
		s.cfg.Logger.InfoContext(r.Context(), "account sign-in refused", "error", e)
		return &pageError{http.StatusForbidden, "You are not signed in", "The sign-in to your account page did not finish. Open your account page to try again."}
	}
	if err := s.redeemAccountCode(r.Context(), provider, q.Get("code"), flow.Get("verifier")); err != nil {
		return err
	}
	next := flow.Get("next")
	if !safeNext(next) {
		next = "/account"
	}
	if flow.Get("acr") == "1" { // a second round would loop: say so instead
		if st, err := s.accountState(r); err != nil {
			return err
		} else if st.sess == nil || (st.needsMFA && !s.mfaFresh(st.sess)) {
			return &pageError{http.StatusForbidden, "Your account page needs a second factor",
				"The sign-in finished without the second factor your account asks for. Open your account page to try again."}
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// redeemAccountCode exchanges the code at the provider's token endpoint,
// in-process: the tokens are not needed, but a code must not be left live.
func (s *Service) redeemAccountCode(ctx context.Context, provider http.Handler, code, verifier string) error {
	if code == "" || len(code) > 512 {
		return errAccountSignIn
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {AccountClientID},
		"redirect_uri": {s.issuerURL(AccountCallbackPath)}, "code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.issuerURL("/oauth/token"), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	provider.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(rec.Body, 512))
		s.cfg.Logger.WarnContext(ctx, "account code exchange failed", "status", rec.Code, "body", string(body))
		if rec.Code == http.StatusServiceUnavailable {
			return fmt.Errorf("account code exchange: %w", storage.ErrUnavailable)
		} else if rec.Code >= 500 {
			return fmt.Errorf("account code exchange: status %d", rec.Code)
		}
		return errAccountSignIn
	}
	return nil
}
