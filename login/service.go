// Package login is twofold's sign-in flow: the login pages, the password
// step, the SSO session cookie and the binding of an authorization request
// to one browser. A sign-in request loads its state once into one value
// (state.go), a pure function of that state says what happens next
// (decide.go), and act does it (act.go); the handlers parse, call and
// render. It completes an authorization request in exactly one place
// (completeRequest), after every required step.
//
// The account pages (package account, which this package never imports)
// sign in through it like any application and share a small exported
// surface of it: the page wrapper (Page, Render, PageError), who the
// browser's session signs in (SignedInAt), the password check of a
// signed-in user (Reauthenticate), the enrolment pages (MountEnrolment),
// new recovery codes and notices.
package login

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/login/sender"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
	"github.com/twofold-id/twofold/web"
)

// Store is what the sign-in flow needs from storage.
type Store interface {
	AuthRequest(ctx context.Context, id string, now time.Time) (*storage.AuthRequest, error)
	BindAuthRequest(ctx context.Context, id, browserHash string) error
	CompleteAuthRequest(ctx context.Context, id string, c storage.Completion, now time.Time) error
	Client(ctx context.Context, id string) (*storage.Client, error)
	User(ctx context.Context, id string) (*storage.User, error)
	UserByUsername(ctx context.Context, username string) (*storage.User, error)
	CreateSession(ctx context.Context, s *storage.Session) error
	ActiveSession(ctx context.Context, id string, now time.Time) (*storage.Session, error)
	TouchSession(ctx context.Context, id string, now time.Time) error
	RevokeSession(ctx context.Context, id string, now time.Time) error
	Audit(ctx context.Context, e *storage.AuditEvent) error
	SecondFactors(ctx context.Context, userID string) ([]storage.SecondFactor, error)
	SetPendingUser(ctx context.Context, authRequestID, userID string) error
	CreateChallenge(ctx context.Context, c *storage.Challenge) error
	LatestChallenge(ctx context.Context, authRequestID string) (*storage.Challenge, error)
	LatestChallengeAndCount(ctx context.Context, authRequestID string) (*storage.Challenge, int64, error)
	CreateFirstChallenge(ctx context.Context, c *storage.Challenge) error
	SpendAttempt(ctx context.Context, id string, now time.Time) (int, error)
	SpendLatestAttempt(ctx context.Context, authRequestID string, now time.Time) (*storage.Challenge, error)
	UseChallenge(ctx context.Context, id string, now time.Time) error
	GlobalNotBefore(ctx context.Context) (time.Time, error)
	AddSessionClient(ctx context.Context, sessionID, clientID string) error
	RotateSession(ctx context.Context, oldID string, next *storage.Session, now time.Time) error
	AddSecondFactor(ctx context.Context, f *storage.SecondFactor) error
	SecondFactor(ctx context.Context, userID string, method storage.Method) (*storage.SecondFactor, error)
	VerifySecondFactor(ctx context.Context, id string, step int64, now time.Time) error
	AdvanceTOTPStep(ctx context.Context, id string, step int64) error
	DeleteSecondFactor(ctx context.Context, userID string, method storage.Method) error
	SetPreferredFactor(ctx context.Context, userID string, method storage.Method) error
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, now time.Time) error
	UseRecoveryCode(ctx context.Context, userID, hash string, now time.Time) error
	RecoveryCodesLeft(ctx context.Context, userID string) (int64, error)
	UpdateUserContact(ctx context.Context, userID string, method storage.Method, destination string, now time.Time) error
	RehashPassword(ctx context.Context, userID, oldHash, newHash string) error
}

// ACR values twofold asserts.
const (
	ACRPassword  = "urn:twofold:acr:pwd" // one factor
	ACRTwoFactor = "urn:twofold:acr:2fa" // password and a second factor
)

// ACRValues lists every acr value the login asserts, for discovery's
// acr_values_supported.
var ACRValues = []string{ACRPassword, ACRTwoFactor}

// Config wires the service.
type Config struct {
	Store           Store
	Passwords       *password.Hasher
	Keyring         *keyring.Keyring
	CookieName      string
	Secure          bool // Secure cookies (everywhere but development on http)
	SessionLifetime time.Duration
	CallbackURL     func(authRequestID string) string
	ClientIP        func(*http.Request) string
	Now             func() time.Time
	Logger          *slog.Logger

	// Second factor: the channels that deliver codes, the keyed hash codes
	// are stored under, and the code parameters.
	Senders map[sender.Channel]sender.Sender
	Codes   *otp.Hasher
	OTP     OTPSettings
	Issuer  string
	AppName string

	// Guard limits guessing and sending; nil turns the limits off.
	Guard Guard

	// Metrics counts deliveries, refused sends and failures; nil counts
	// nothing.
	Metrics Metrics

	// Policy returns the effective policy of a user at a client, resolved
	// on top of policy.Defaults (required).
	Policy func(ctx context.Context, clientID, userID string) (policy.Effective, error)
}

// Service serves the login pages.
type Service struct {
	cfg     Config
	pages   *i18n.Pages // one set per language
	binding keyring.Hasher
	chain   *sender.Chain // delivers sign-in codes over cfg.Senders
	csrf    *http.CrossOriginProtection
}

// New parses the templates once; a missing template fails here, not on a request.
func New(cfg Config) (*Service, error) {
	pages, err := ParseTemplates()
	if err != nil {
		return nil, err
	}
	if cfg.Policy == nil {
		return nil, errors.New("login: Config.Policy is required")
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	s := &Service{cfg: cfg, pages: pages, binding: cfg.Keyring.Hasher(keyring.PurposeBinding), csrf: http.NewCrossOriginProtection(),
		chain: sender.NewChain(cfg.Senders)}
	// A refused cross-site post gets the error page, not the default plain text.
	s.csrf.SetDenyHandler(s.errorPage(errCrossOrigin))
	return s, nil
}

// ParseTemplates parses every page template from web.FS, once per
// language of the catalogues (web/locales).
func ParseTemplates() (*i18n.Pages, error) {
	if err := i18n.Check(); err != nil {
		return nil, err
	}
	return i18n.Default().ParsePages(web.FS, "templates/*.html")
}

// Mount registers the login routes on mux, each a Page.
func (s *Service) Mount(mux *http.ServeMux) {
	page := s.Page
	mux.Handle("GET /login", page(s.showLogin))
	mux.Handle("POST /login/password", page(s.postPassword))
	mux.Handle("GET /logged-out", page(s.loggedOut))
	mux.Handle("GET /login/code", page(s.showCode))
	mux.Handle("POST /login/code", page(s.postCode))
	mux.Handle("POST /login/code/resend", page(s.postResend))
	mux.Handle("POST /login/code/method", page(s.postMethod))
	mux.Handle("GET /login/recovery", page(s.showRecovery))
	mux.Handle("POST /login/recovery", page(s.postRecovery))
	mux.Handle("GET "+signInEnrolPath, page(s.showEnrolChoice))
	s.mountEnrolment(mux, signInEnrolPath, s.signInEnrolee, page)
}

// Page makes h a browser page of twofold, as every sign-in page is: the
// browser-page headers, cross-origin protection of its forms, the form
// read up front, and a returned error rendered as the error page (a
// PageError's own, the "try again shortly" page for a database outage, a
// logged 500 otherwise). The account pages are made of it too.
func (s *Service) Page(h HandlerFunc) http.Handler {
	return BrowserHeaders(s.csrf.Handler(s.languageSwitch(s.adapt(h))))
}

// PageHeaders makes next a browser page of twofold that is not a login
// Page (the provider's sign-out pages, the demo, the not-found page): the
// browser-page headers and the language switch.
func (s *Service) PageHeaders(next http.Handler) http.Handler {
	return BrowserHeaders(s.languageSwitch(next))
}

// PageError returns an error that Page renders as the error page with
// this status, heading and message (catalogue messages; the heading also
// titles the page, so it takes no data).
func PageError(status int, heading, message i18n.Message) error {
	return &pageError{status, heading, message}
}

// Lang is the language of the page r is answered with (i18n.Choose).
func (s *Service) Lang(r *http.Request) language.Tag { return s.pages.Bundle().Choose(r) }

// Say says a catalogue message in the language of r's page.
func (s *Service) Say(r *http.Request, m i18n.Message) string {
	if m.ID == "" {
		return ""
	}
	return s.pages.Bundle().Localize(s.Lang(r), m)
}

// Render renders a page template (web/templates) with data, in full or
// not at all.
func (s *Service) Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.render(w, r, status, name, data)
}

// BrowserHeaders sets the headers every browser page of twofold carries:
// no framing, no caching, no referrer.
func BrowserHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self' http: https:; base-uri 'none'")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		next.ServeHTTP(w, r)
	})
}

// HandlerFunc is a page handler that returns its failure for Page to
// render.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// pageError is a failure shown to the user as a full error page.
type pageError struct {
	status  int
	heading i18n.Message
	message i18n.Message
}

func (e *pageError) Error() string { return e.message.ID }

// errPage is a page error of fixed catalogue messages.
func errPage(status int, heading, message string) *pageError {
	return &pageError{status, i18n.M(heading), i18n.M(message)}
}

var (
	errCrossOrigin      = errPage(http.StatusForbidden, "error.cross_origin_heading", "error.cross_origin")
	errPageNotFound     = errPage(http.StatusNotFound, "error.not_found_heading", "error.not_found")
	errMethodNotAllowed = errPage(http.StatusMethodNotAllowed, "error.method_heading", "error.method")
)

// errorPage renders one fixed error as the HTML error page.
func (s *Service) errorPage(pe *pageError) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, pe.status, "error.html", map[string]any{"Title": pe.heading.ID, "Heading": s.Say(r, pe.heading), "Error": s.Say(r, pe.message)})
	})
}

// NotFound is the HTML page a browser gets for an address nothing serves,
// with the browser-page headers.
func (s *Service) NotFound() http.Handler { return s.PageHeaders(s.errorPage(errPageNotFound)) }

// MethodNotAllowed is the HTML page a browser gets for a method an address
// does not take (a form's address opened as a link), with the browser-page
// headers; the Allow header is the caller's.
func (s *Service) MethodNotAllowed() http.Handler {
	return s.PageHeaders(s.errorPage(errMethodNotAllowed))
}

// errUnavailable answers a database outage: nothing the user did is wrong,
// and the same page works again in a few seconds.
var errUnavailable = errPage(http.StatusServiceUnavailable, "error.unavailable_heading", "error.unavailable")

var errUnknownRequest = errPage(http.StatusBadRequest, "error.unknown_request_heading", "error.unknown_request")

// adapt renders the error a handler returns: its message for a pageError,
// the "try again shortly" page (503, Retry-After) for a database outage, a
// generic page (and a log line with the cause) for anything else.
func (s *Service) adapt(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// One request reads each record once (see storage.WithMemo), and
		// learns the sign-in's ui_locales when it loads it.
		r = i18n.Prepare(r.WithContext(storage.WithMemo(r.Context())))
		err := readForm(r)
		if err == nil {
			err = h(w, r)
		}
		if err == nil {
			return
		}
		var pe *pageError
		switch {
		case errors.As(err, &pe):
		case errors.Is(err, storage.ErrUnavailable):
			s.cfg.Logger.ErrorContext(r.Context(), "database unavailable", "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(int(storage.RetryAfter.Seconds())))
			pe = errUnavailable
		default:
			s.cfg.Logger.ErrorContext(r.Context(), "login page failed", "path", r.URL.Path, "err", err)
			pe = errPage(http.StatusInternalServerError, "error.internal_heading", "error.internal")
		}
		s.errorPage(pe).ServeHTTP(w, r)
	})
}

var (
	errFormTooLarge = errPage(http.StatusRequestEntityTooLarge, "error.too_large_heading", "error.too_large")
	errFormInvalid  = errPage(http.StatusBadRequest, "error.unreadable_heading", "error.unreadable")
	errFormText     = errPage(http.StatusBadRequest, "error.bad_text_heading", "error.bad_text")
)

// readForm parses the form (and the query) up front, so that an oversized
// or malformed body gets its own answer instead of looking like a missing
// field (FormValue drops the parse error), and so that no page has to
// check for text no database column can hold (storage.ValidText).
func readForm(r *http.Request) error {
	err := r.ParseForm()
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		if _, bad := storage.InvalidField(r.Form); bad {
			return errFormText
		}
		return nil
	case errors.As(err, &tooLarge):
		return errFormTooLarge
	default:
		return errFormInvalid
	}
}

// render executes a template into a buffer first, so a failing template
// never sends half a page.
func (s *Service) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	tag := s.Lang(r)
	if err := s.pages.Execute(&buf, tag, name, data); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "template failed", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", tag.String())
	w.WriteHeader(status)
	buf.WriteTo(w)
}

func (s *Service) loggedOut(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "logged_out.html", map[string]any{"Title": "logged_out.title"})
	return nil
}

func (s *Service) audit(r *http.Request, typ, userID, clientID, outcome string) {
	s.auditDetail(r, typ, userID, clientID, outcome, "")
}

// auditDetail records an event with a detail that never holds a secret.
func (s *Service) auditDetail(r *http.Request, typ, userID, clientID, outcome, detail string) {
	e := &storage.AuditEvent{CreatedAt: s.cfg.Now(), Type: typ, UserID: userID, ClientID: clientID,
		IP: s.cfg.ClientIP(r), Outcome: outcome, Detail: detail}
	if err := s.cfg.Store.Audit(r.Context(), e); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "audit write failed", "type", typ, "err", err)
	}
}

// sessionIDFromCookie is the session record id of a cookie value.
func sessionIDFromCookie(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
