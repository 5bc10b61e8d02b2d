package op

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/twofold-id/twofold/storage"
)

// RP-Initiated Logout 1.0, served here rather than by zitadel/oidc, which
// ends only what the storage finds from the request (a server-to-server
// call carries no cookie), ends the browser's session on any top-level
// cross-site GET, and answers mistakes as JSON even to browsers. Here:
//
//   - a valid id_token_hint is the relying party proving that it wants its
//     session gone: the session its sid names ends, if it is a live session
//     of the hint's subject that the hint's client signed in through, with
//     or without a cookie (oauth2-proxy's --backend-logout-url);
//   - the browser's own session ends at once only for a valid hint of the
//     same user; otherwise (no hint, an invalid one, another user's, or a
//     request with a mistake) the user is asked on a page of ours, whose
//     POST is protected like every form of ours;
//   - the browser goes to post_logout_redirect_uri only when it is
//     registered for the client the hint or client_id names.
//
// Expired hints are accepted when their signature and issuer hold, as the
// specification recommends (§2: relying parties keep ID tokens past their
// exp): the session they can end is bounded by the live session their sid
// names, and a key that is no longer published verifies nothing.

// loggedOutPath is where a browser lands when signed out without a
// registered post-logout URI to go to.
const loggedOutPath = "/logged-out"

// Paths of the logout endpoint and of its confirmation form.
const (
	endSessionPath    = "/end_session"
	logoutConfirmPath = "/end_session/confirm"
)

// serveLogout routes the logout paths, refusing the methods they do not
// serve.
func (p *Provider) serveLogout(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == endSessionPath && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		p.serveEndSession(w, r)
	case r.URL.Path == logoutConfirmPath && r.Method == http.MethodPost:
		p.serveLogoutConfirm(w, r)
	case r.URL.Path == endSessionPath:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, &pageLang{p.opts.Pages, p.lang(r, "")}, http.StatusMethodNotAllowed, "invalid_request", "Use GET or POST.")
	default:
		w.Header().Set("Allow", "POST")
		writeError(w, &pageLang{p.opts.Pages, p.lang(r, "")}, http.StatusMethodNotAllowed, "invalid_request", "Use POST.")
	}
}

// serveEndSession answers GET and POST /end_session.
func (p *Provider) serveEndSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l, err := p.checkLogout(ctx, r.Form)
	if err != nil {
		p.logoutUnavailable(w, r, err)
		return
	}
	browser, err := p.browserSession(r)
	if err != nil {
		p.logoutUnavailable(w, r, err)
		return
	}
	if l.problem == "" && l.hint != nil {
		if err := p.endHintSession(r, l, browser); err != nil {
			p.logoutUnavailable(w, r, err)
			return
		}
	}
	switch {
	case browser == nil && l.problem != "":
		p.renderLogout(w, r, http.StatusBadRequest, logoutPage{Title: "logout.title_failed", Heading: "logout.heading_failed",
			Problem: l.problem, Message: "logout.not_signed_in"})
	case browser == nil:
		http.Redirect(w, r, l.target(), http.StatusFound)
	case l.problem == "" && l.hint != nil && l.hint.Subject == browser.UserID:
		if err := p.endSession(r, browser, l.clientID(), "by=end_session"); err != nil {
			p.logoutUnavailable(w, r, err)
			return
		}
		p.opts.ClearSession(w)
		http.Redirect(w, r, l.target(), http.StatusFound)
	default:
		p.askLogout(w, r, l, browser)
	}
}

// serveLogoutConfirm answers the confirmation page: the request is checked
// again from the fields the page carried, and only the browser's own
// session ends.
func (p *Provider) serveLogoutConfirm(w http.ResponseWriter, r *http.Request) {
	if err := p.csrf.Check(r); err != nil {
		p.renderLogout(w, r, http.StatusForbidden, logoutPage{Title: "logout.title_refused", Heading: "error.cross_origin_heading",
			Message: "error.cross_origin"})
		return
	}
	l, err := p.checkLogout(r.Context(), r.PostForm)
	if err != nil {
		p.logoutUnavailable(w, r, err)
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		p.renderLogout(w, r, http.StatusOK, logoutPage{Title: "logout.title_stayed", Heading: "logout.heading_stayed",
			Message: "logout.stayed"})
		return
	}
	browser, err := p.browserSession(r)
	if err == nil && browser != nil {
		err = p.endSession(r, browser, l.clientID(), "by=end_session_confirmed")
	}
	if err != nil {
		p.logoutUnavailable(w, r, err)
		return
	}
	p.opts.ClearSession(w)
	http.Redirect(w, r, l.target(), http.StatusSeeOther)
}

// target is where the browser goes once signed out.
func (l *logoutRequest) target() string {
	if l.redirect != "" {
		return l.redirect
	}
	return loggedOutPath
}

// browserSession returns the live SSO session of the browser, or nil.
func (p *Provider) browserSession(r *http.Request) (*storage.Session, error) {
	id := p.opts.SessionID(r)
	if id == "" {
		return nil, nil
	}
	sess, err := p.opts.Store.ActiveSession(r.Context(), id, p.opts.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return sess, err
}

// endHintSession ends the session a valid hint's sid names, when it is a
// live session of the hint's subject that the hint's client signed in
// through; the browser's own session is left to the caller. Nothing to end
// is audited too, so a relying party's logout always leaves a trace.
func (p *Provider) endHintSession(r *http.Request, l *logoutRequest, browser *storage.Session) error {
	sess, err := p.opts.Store.LiveSessionBySID(r.Context(), l.hint.Subject, l.hint.SessionID, p.opts.Now())
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	switch {
	case sess == nil || !sess.Clients.Contains(l.client.ID):
		p.logoutAudit(r, l.client.ID, l.hint.Subject, "no live session", "by=relying_party")
		return nil
	case browser != nil && sess.ID == browser.ID:
		return nil
	}
	return p.endSession(r, sess, l.client.ID, "by=relying_party")
}

// endSession ends a session and the tokens issued under it, and queues the
// back-channel logouts of its clients.
func (p *Provider) endSession(r *http.Request, sess *storage.Session, clientID, detail string) error {
	if err := p.opts.Store.RevokeSession(r.Context(), sess.ID, p.opts.Now()); err != nil {
		return err
	}
	p.logoutAudit(r, clientID, sess.UserID, "session ended", detail)
	return nil
}

func (p *Provider) logoutAudit(r *http.Request, clientID, userID, outcome, detail string) {
	e := &storage.AuditEvent{CreatedAt: p.opts.Now(), Type: "logout", ClientID: clientID, UserID: userID,
		Outcome: outcome, Detail: detail}
	if p.opts.ClientIP != nil {
		e.IP = p.opts.ClientIP(r)
	}
	if err := p.opts.Store.Audit(r.Context(), e); err != nil {
		p.opts.Logger.ErrorContext(r.Context(), "audit write failed", "type", e.Type, "err", err)
	}
}

// askLogout shows the confirmation page, naming the application that
// asked when it is known and the user who would be signed out.
func (p *Provider) askLogout(w http.ResponseWriter, r *http.Request, l *logoutRequest, browser *storage.Session) {
	page := logoutPage{Title: "logout.title_ask", Heading: "logout.heading_ask", Problem: l.problem, Ask: true}
	if l.client != nil {
		page.ClientName = cmpOr(l.client.Name, l.client.ID)
	}
	u, err := p.opts.Store.User(r.Context(), browser.UserID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.logoutUnavailable(w, r, err)
		return
	} else if err == nil {
		page.Username = u.Username
	}
	for _, k := range logoutParams {
		if v := l.form.Get(k); v != "" {
			page.Fields = append(page.Fields, hiddenField{Name: k, Value: v})
		}
	}
	p.renderLogout(w, r, http.StatusOK, page)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// logoutUnavailable answers a storage failure: the database, not the
// request, is at fault.
func (p *Provider) logoutUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	p.opts.Logger.ErrorContext(r.Context(), "end_session failed", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	p.renderLogout(w, r, http.StatusServiceUnavailable, logoutPage{Title: "logout.title_unavailable", Heading: "logout.heading_unavailable",
		Message: "logout.unavailable"})
}

// logoutPage is the data of logout.html; its texts are catalogue ids.
type logoutPage struct {
	Title, Heading       string
	Problem              string // what is wrong with the application's request
	Message              string
	Ask                  bool // show the confirmation form
	ClientName, Username string
	Fields               []hiddenField
}

type hiddenField struct{ Name, Value string }

// renderLogout renders logout.html into a buffer first, so a failing
// template never sends half a page. (The page headers are set around
// serveLogout.)
func (p *Provider) renderLogout(w http.ResponseWriter, r *http.Request, status int, page logoutPage) {
	var buf bytes.Buffer
	lang := p.lang(r, "")
	if err := p.opts.Pages.Execute(&buf, lang, "logout.html", page); err != nil {
		p.opts.Logger.ErrorContext(r.Context(), "template failed", "template", "logout.html", "err", err)
		writeError(w, &pageLang{p.opts.Pages, p.lang(r, "")}, http.StatusInternalServerError, "server_error", "internal error")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang.String())
	w.WriteHeader(status)
	buf.WriteTo(w)
}
