package login

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// MaxUsernameBytes bounds the username field: the store's bound.
const MaxUsernameBytes = storage.MaxUsernameBytes

// loadRequest loads the auth request named by the form or query and checks
// that it belongs to this browser.
func (s *Service) loadRequest(r *http.Request) (*storage.AuthRequest, error) {
	id := r.FormValue("authRequestID")
	if id == "" || len(id) > 128 {
		return nil, errUnknownRequest
	}
	a, err := s.cfg.Store.AuthRequest(r.Context(), id, s.cfg.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errUnknownRequest
	} else if err != nil {
		return nil, err
	}
	i18n.SetSignIn(r.Context(), a.ID, a.UILocales) // the application's ui_locales choose the page's language
	return a, nil
}

// showLogin starts the sign-in: it binds the request to this browser and
// lets decide say what comes next (a live session may answer at once).
func (s *Service) showLogin(w http.ResponseWriter, r *http.Request) error {
	a, err := s.loadRequest(r)
	if err != nil {
		return err
	}
	hash := s.browserHash(w, r)
	if err := s.cfg.Store.BindAuthRequest(r.Context(), a.ID, hash); errors.Is(err, storage.ErrAlreadyUsed) {
		return errPage(http.StatusBadRequest, "error.unknown_request_heading", "error.other_browser")
	} else if err != nil {
		return err
	}
	return s.run(w, r, s.newState(stepStart, a, nil))
}

func (s *Service) showPassword(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, status int, username string, msg i18n.Message) error {
	name := a.ClientID
	if c, err := s.cfg.Store.Client(r.Context(), a.ClientID); err == nil && c.Name != "" {
		name = c.Name
	}
	s.render(w, r, status, "password.html", map[string]any{
		"Title": "password.title", "ClientName": name, "AuthRequestID": a.ID, "Username": username, "Error": s.Say(r, msg),
	})
	return nil
}

// postPassword parses the password form, checks the password, and lets
// decide say what the sign-in still needs.
func (s *Service) postPassword(w http.ResponseWriter, r *http.Request) error {
	a, err := s.loadRequest(r)
	if err != nil {
		return err
	}
	if !s.sameBrowser(r, a.BrowserHash) {
		return errUnknownRequest
	}
	if a.DoneAt != nil {
		http.Redirect(w, r, s.cfg.CallbackURL(a.ID), http.StatusSeeOther)
		return nil
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	switch {
	case username == "" || password == "":
		return s.showPassword(w, r, a, http.StatusBadRequest, username, i18n.M("password.error.missing"))
	case len(username) > MaxUsernameBytes || !utf8.ValidString(username) || hasControl(username):
		return s.showPassword(w, r, a, http.StatusBadRequest, "", i18n.M("password.error.invalid_username"))
	case len(password) > MaxPasswordBytes:
		return s.showPassword(w, r, a, http.StatusBadRequest, username, i18n.M("password.error.too_long"))
	}
	u, err := s.checkPassword(w, r, a, username, password)
	if u == nil || err != nil { // answered
		return err
	}
	s.rehash(r, u, password)
	return s.run(w, r, s.newState(stepPassword, a, u))
}

// checkPassword returns the user whose password this is, or nil once it
// answered otherwise. Unknown users, disabled users and wrong passwords get
// the same answer after the same work; so does a locked account. A name in
// backoff, whether an account has it or not, is told to wait. Each check
// claims the account's backoff slot first and ends in a failure counted or
// the slot given back.
func (s *Service) checkPassword(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, username, password string) (*storage.User, error) {
	if wait, err := s.ipBlocked(r); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, tooManyFromIP(w, wait)
	}
	u, err := s.cfg.Store.UserByUsername(r.Context(), username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if u != nil && u.Disabled { // answered as no account at all
		u = nil
	}
	key := s.backoffKey(u, username)
	wait, held, err := s.accountHeld(r, key)
	if err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, s.passwordBackoff(w, r, a, u, username, wait)
	}
	locked := held // a wait was answered above
	hash := ""
	if u != nil && !locked { // locked: the same answer as a wrong password, after the same work
		hash = u.PasswordHash
	}
	ok, err := s.cfg.Passwords.Verify(r.Context(), hash, password)
	if errors.Is(err, ErrBusy) {
		if err := s.release(r, key); err != nil { // nothing was tried
			return nil, err
		}
		w.Header().Set("Retry-After", "2")
		return nil, s.showPassword(w, r, a, http.StatusTooManyRequests, username, i18n.M("password.error.busy"))
	} else if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.wrongPassword(w, r, a, u, key, locked, username)
	}
	s.audit(r, "password_ok", u.ID, a.ClientID, "accepted")
	// The password step let this sign-in through the backoff: its next step
	// (a code sent now) takes the slot at once instead of waiting out this
	// step's claim.
	return u, s.release(r, key)
}

// wrongPassword counts and answers a wrong password (or any password of a
// locked account or name, whose failures count only for the IP).
func (s *Service) wrongPassword(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, u *storage.User, key string, locked bool, username string) error {
	userID := ""
	if u != nil && !locked {
		userID = u.ID
	}
	if locked {
		key = ""
	}
	s.audit(r, "password_failed", userID, a.ClientID, "rejected")
	if err := s.failureOf(r, "password", key, userID, a.ClientID); err != nil {
		return err
	}
	return s.showPassword(w, r, a, http.StatusUnauthorized, username, i18n.M("password.error.wrong"))
}

// passwordBackoff answers a name in backoff without checking the password.
// The wait is the typed name's own (backoffKey), the same whether an
// account has that name or not, so saying it reveals nothing.
func (s *Service) passwordBackoff(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, u *storage.User, username string, wait time.Duration) error {
	userID := ""
	if u != nil {
		userID = u.ID
	}
	s.audit(r, "password_backoff", userID, a.ClientID, "refused")
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
	return s.showPassword(w, r, a, http.StatusTooManyRequests, username,
		i18n.M("password.error.backoff", "Wait", humanWait(wait)))
}

// signIn starts a new SSO session for an interactive sign-in (a new cookie
// id every time: no fixation), ends the browser's previous one, and
// completes the request.
func (s *Service) signIn(w http.ResponseWriter, r *http.Request, st *state, amr []string, acr string, mfa bool) error {
	callback, err := s.signInTo(w, r, st, amr, acr, mfa)
	if err != nil {
		return err
	}
	http.Redirect(w, r, callback, http.StatusSeeOther)
	return nil
}

// signInTo is signIn without the redirect: it returns where the browser
// goes next, for pages shown in between (recovery codes).
func (s *Service) signInTo(w http.ResponseWriter, r *http.Request, st *state, amr []string, acr string, mfa bool) (string, error) {
	if err := s.load(r, st, partPolicy); err != nil {
		return "", err
	}
	a, u, eff, now := st.req, st.user, st.policy, st.now
	cookie := keyring.RandomToken(32)
	sess := &storage.Session{
		ID: sessionIDFromCookie(cookie), UserID: u.ID, AuthTime: now, AMR: amr, ACR: acr,
		IP: s.cfg.ClientIP(r), UserAgent: storableText(r.UserAgent(), 256),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(eff.SessionLifetime),
		// The client is recorded with the new session, not added after.
		Clients: storage.StringList{a.ClientID},
	}
	if mfa {
		sess.MFAAt = &now
		s.rememberDevice(w, u, eff, now)
	}
	if err := s.replaceSession(r, sess); err != nil {
		return "", err
	}
	s.setCookie(w, s.cfg.CookieName, cookie, eff.SessionLifetime)
	if err := s.success(r, u.ID); err != nil {
		return "", err
	}
	if err := s.completeRequest(r, a, sess.ID, storage.Completion{UserID: u.ID, AuthTime: now, AMR: amr, ACR: acr}); err != nil {
		return "", err
	}
	return s.cfg.CallbackURL(a.ID), nil
}

// replaceSession stores a new session for this browser. The browser's
// previous session of the same user is rotated into it (its clients and
// tokens carry over); one of another user is ended.
func (s *Service) replaceSession(r *http.Request, sess *storage.Session) error {
	ctx, now := r.Context(), s.cfg.Now()
	old := s.SessionID(r)
	if old == "" {
		return s.cfg.Store.CreateSession(ctx, sess)
	}
	err := s.cfg.Store.RotateSession(ctx, old, sess, now)
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if err := s.cfg.Store.RevokeSession(ctx, old, now); err != nil {
		return err
	}
	return s.cfg.Store.CreateSession(ctx, sess)
}

// complete completes the request within an existing session and sends the
// browser to the callback.
func (s *Service) complete(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, sessionID string, c storage.Completion) error {
	callback, err := s.completeTo(r, a, sessionID, c)
	if err != nil {
		return err
	}
	http.Redirect(w, r, callback, http.StatusSeeOther)
	return nil
}

// completeTo completes the request within an existing session, which
// records the client, and returns the callback.
func (s *Service) completeTo(r *http.Request, a *storage.AuthRequest, sessionID string, c storage.Completion) (string, error) {
	if err := s.completeRequest(r, a, sessionID, c); err != nil {
		return "", err
	}
	if err := s.cfg.Store.AddSessionClient(r.Context(), sessionID, a.ClientID); err != nil {
		return "", err
	}
	return s.cfg.CallbackURL(a.ID), nil
}

// completeRequest is the one place an authorization request becomes done,
// and so the one place a code can be unlocked.
func (s *Service) completeRequest(r *http.Request, a *storage.AuthRequest, sessionID string, c storage.Completion) error {
	c.SessionID = sessionID
	err := s.cfg.Store.CompleteAuthRequest(r.Context(), a.ID, c, s.cfg.Now())
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return errUnknownRequest
	}
	return err
}

// redirectError sends the browser back to the client with an OAuth error,
// as prompt=none requires when the user must interact, in the response
// mode the request asked for.
func (s *Service) redirectError(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, code, desc string) error {
	u, err := url.Parse(a.RedirectURI)
	if err != nil {
		return err
	}
	params := url.Values{"error": {code}, "error_description": {desc}}
	if a.State != "" {
		params.Set("state", a.State)
	}
	if a.ResponseMode == "form_post" {
		fields := []formField{{"error", code}, {"error_description", desc}}
		if a.State != "" {
			fields = append(fields, formField{"state", a.State})
		}
		// The redirect URI was matched exactly against the client's at
		// /authorize; a native app's custom scheme must survive escaping.
		s.render(w, r, http.StatusOK, "form_post.html", map[string]any{"Title": "form_post.title", "NoLanguageSwitch": true,
			"Action": template.URL(a.RedirectURI), "Fields": fields})
		return nil
	}
	if a.ResponseMode == "fragment" {
		u.Fragment = params.Encode()
	} else {
		q := u.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
	return nil
}

// formField is a hidden field of a form_post answer.
type formField struct{ Name, Value string }

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// storableText makes a header fit for a text column: at most n bytes of
// valid UTF-8 without NUL, cut at a character boundary. HTTP lets headers
// carry any byte above 0x7f, and the session list shows the User-Agent.
func storableText(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) { // only the last character can be cut
		s = s[:len(s)-1]
	}
	return s
}
