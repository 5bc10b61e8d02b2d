// Package op is the glue between twofold and zitadel/oidc: op.Storage on our
// records, signing keys, provider options, and the wrappers that close what
// the library leaves open (PKCE verifier checks, error bodies, browser
// binding of the callback, end_session, WWW-Authenticate).
package op

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// Options configure the provider.
type Options struct {
	Issuer    string
	Store     Store
	Keys      *Keys
	Keyring   *keyring.Keyring
	Lifetimes Lifetimes
	// ReuseGrace is how long a rotated refresh token still gets its
	// successor back (see oidcStorage.graceSuccessor).
	ReuseGrace ReuseGrace
	// AssertionLeeway is the clock skew allowed on private_key_jwt client
	// assertions (iat, nbf, exp).
	AssertionLeeway time.Duration
	LoginURL        string // path of the login page, e.g. /login
	Now             func() time.Time
	Logger          *slog.Logger
	// ACRValues are the acr values the login asserts, for discovery.
	ACRValues []string

	// SessionID returns the SSO session id of the browser, for end_session.
	SessionID func(*http.Request) string
	// ClearSession removes the SSO cookie after a successful end_session.
	ClearSession func(http.ResponseWriter)
	// Pages are the HTML templates (web/templates, logout.html among them)
	// of end_session's pages, which PageHeaders gives the headers of every
	// browser page.
	Pages       *i18n.Pages
	PageHeaders func(http.Handler) http.Handler
	// ClientIP is the address audit events record; nil records none.
	ClientIP func(*http.Request) string
	// CallbackGuard reports whether this browser may collect the code of the
	// auth request (it is the browser that signed in); it writes the refusal.
	CallbackGuard func(w http.ResponseWriter, r *http.Request, authRequestID string) bool
}

// Provider is the OpenID provider: discovery, JWKS, authorize, token,
// userinfo, introspection, revocation and end_session.
type Provider struct {
	inner     *zop.Provider
	opts      Options
	storage   *oidcStorage
	handler   http.Handler
	logout    http.Handler // end_session and its confirmation page
	csrf      *http.CrossOriginProtection
	discovery discovery
}

// MaxBodyBytes bounds request bodies of the protocol endpoints.
const MaxBodyBytes = 64 << 10

// New builds the provider.
func New(o Options) (*Provider, error) {
	if o.Pages == nil || !o.Pages.Lookup("logout.html") || !o.Pages.Lookup("form_post.html") || o.PageHeaders == nil {
		return nil, errors.New("op: Options.Pages (with logout.html and form_post.html) and PageHeaders are required")
	}
	st := &oidcStorage{
		store:      o.Store,
		keys:       o.Keys,
		secrets:    o.Keyring.Hasher(keyring.PurposeClientSecret),
		tokens:     o.Keyring.Hasher(keyring.PurposeToken),
		successors: o.Keyring.Hasher(keyring.PurposeRefreshSuccessor),
		life:       o.Lifetimes,
		grace:      o.ReuseGrace,
		loginURL:   o.LoginURL,
		now:        o.Now,
		log:        o.Logger,
	}
	var cryptoKey [32]byte
	copy(cryptoKey[:], o.Keyring.Derive(keyring.PurposeOPCrypto))
	cfg := &zop.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: loggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		AuthMethodPrivateKeyJWT:  true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       o.Pages.Bundle().Tags(),
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess},
		SupportedClaims:          issuedClaims,

		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	// zitadel/oidc's CORS handler reflects any Origin with credentials on
	// every endpoint; cors.go is the policy instead.
	opts := []zop.Option{zop.WithCORSOptions(nil)}
	if strings.HasPrefix(o.Issuer, "http://") {
		opts = append(opts, zop.WithAllowInsecure())
	}
	inner, err := zop.NewProvider(cfg, st, zop.StaticIssuer(o.Issuer), opts...)
	if err != nil {
		return nil, err
	}
	p := &Provider{inner: inner, opts: o, storage: st, csrf: http.NewCrossOriginProtection()}
	p.handler = p.wrap(inner)
	p.logout = o.PageHeaders(http.HandlerFunc(p.serveLogout))
	return p, nil
}

// ServeHTTP serves the protocol endpoints.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// CallbackURL is where the login UI sends the browser once the auth request
// is done.
func (p *Provider) CallbackURL(authRequestID string) string {
	return "/authorize/callback?id=" + authRequestID
}

var verifierRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

func (p *Provider) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		ctx, out := withOutage(storage.WithMemo(r.Context()))
		r = r.WithContext(ctx)
		e, _ := endpointOf(r.URL.Path)
		if p.cors(w, r, e) {
			return
		}
		browser := p.browserPage(r, r.URL.Path == "/authorize" || r.URL.Path == "/authorize/callback" ||
			r.URL.Path == endSessionPath || r.URL.Path == logoutConfirmPath)
		if err := r.ParseForm(); err != nil {
			writeError(w, browser, http.StatusBadRequest, "invalid_request", "the request could not be parsed")
			return
		}
		if browser != nil {
			browser = p.browserPage(r, true) // with the request's ui_locales, now read
		}
		if e := checkParams(r); e != nil {
			writeError(w, browser, http.StatusBadRequest, string(e.ErrorType), e.Description)
			return
		}
		switch r.URL.Path {
		case "/oauth/token", "/oauth/introspect", "/revoke":
			if e := p.checkClientAuth(r); e != nil {
				p.writeClientAuthError(w, r, e)
				return
			}
		}
		switch r.URL.Path {
		case discoveryPath:
			p.serveDiscovery(w, r, next)
			return
		case "/keys":
			p.serveJWKS(w, r)
			return
		case "/oauth/token":
			// RFC 6749 §5.1: responses carrying tokens must not be cached;
			// zitadel/oidc does not say so.
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
			// The signing key follows the client; AuthRequestByCode checks
			// the verifier first (see RedeemCode, the same path without HTTP).
			verifier := r.Form.Get("code_verifier")
			r = r.WithContext(tokenContext(r.Context(), verifier))
			var ok bool
			if r, ok = p.authenticateAssertion(w, r); !ok {
				return
			}
			if e := verifierSyntax(verifier); e != nil {
				writeError(w, nil, http.StatusBadRequest, string(e.ErrorType), e.Description)
				return
			}
		case "/revoke":
			r = r.WithContext(withRevokedToken(r.Context(), r.PostForm.Get("token")))
		case "/userinfo", "/oauth/introspect":
			// Both answer with personal data: no cache may keep it.
			w.Header().Set("Cache-Control", "no-store")
		case "/authorize/callback":
			if p.opts.CallbackGuard != nil && !p.opts.CallbackGuard(w, r, r.Form.Get("id")) {
				return
			}
		case endSessionPath, logoutConfirmPath:
			p.logout.ServeHTTP(w, r) // ours, not zitadel/oidc's: see logout.go
			return
		}
		if r.URL.Path == "/authorize" && r.Form.Get("response_mode") == string(oidc.ResponseModeFormPost) {
			w = &formPostErrors{ResponseWriter: w, pages: p.opts.Pages, lang: p.lang(r, r.Form.Get("ui_locales")),
				redirectURI: r.Form.Get("redirect_uri")}
		}
		if r.URL.Path == "/authorize/callback" {
			answer := &formPostAnswer{ResponseWriter: w}
			defer answer.finish(p.opts.Pages, p.lang(r, ""))
			w = answer
		}
		rw := &errorRewriter{ResponseWriter: w, out: out}
		next.ServeHTTP(rw, r)
		if cause := out.seen(); cause != nil && rw.status != 0 {
			p.opts.Logger.ErrorContext(r.Context(), "database unavailable", "path", r.URL.Path, "err", cause)
			writeUnavailable(rw.ResponseWriter, browser)
			return
		}
		rw.finish(r, browser, p.opts.Logger)
	})
}

// writeClientAuthError answers a refused client authentication: 401 with
// the challenge of the method that failed (RFC 6749 §5.2), or, when the
// client could not be read, a logged server_error (503 in an outage).
func (p *Provider) writeClientAuthError(w http.ResponseWriter, r *http.Request, e *oidc.Error) {
	if e.ErrorType == oidc.ServerError {
		p.opts.Logger.ErrorContext(r.Context(), "client authentication", "path", r.URL.Path, "err", e.Parent)
		writeInternal(w, e.Parent)
		return
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="twofold"`)
	writeError(w, nil, http.StatusUnauthorized, string(e.ErrorType), e.Description)
}

// serveJWKS answers from the precomputed key set with validators, so
// clients and caches can revalidate cheaply.
func (p *Provider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	body, etag, err := p.opts.Keys.jwksDoc(r.Context())
	if err != nil {
		p.opts.Logger.ErrorContext(r.Context(), "jwks", "err", err)
		writeInternal(w, err)
		return
	}
	servePublicJSON(w, r, body, etag)
}

// servePublicJSON answers a precomputed public document (keys, discovery)
// with validators (browser clients read both cross-origin: see cors.go).
func servePublicJSON(w http.ResponseWriter, r *http.Request, body []byte, etag string) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body)
}

// etagOf is a strong validator for a document.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// errorRewriter holds back error bodies so that no internal text reaches a
// client: zitadel/oidc answers some failures with err.Error() in plain text.
// After a database outage it holds back any answer (the library answers a
// failed introspection "active": false with 200).
type errorRewriter struct {
	http.ResponseWriter
	out    *outage
	status int
	buf    bytes.Buffer
}

func (e *errorRewriter) WriteHeader(code int) {
	if code >= 400 || e.out.seen() != nil {
		e.status = code
		return
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *errorRewriter) Write(b []byte) (int, error) {
	if e.status == 0 && e.out.seen() != nil { // an implicit 200
		e.status = http.StatusOK
	}
	if e.status != 0 {
		return e.buf.Write(b)
	}
	return e.ResponseWriter.Write(b)
}

func (e *errorRewriter) finish(r *http.Request, browser *pageLang, log *slog.Logger) {
	if e.status == 0 {
		return
	}
	w := e.ResponseWriter
	body := bytes.TrimSpace(e.buf.Bytes())
	if r.URL.Path == "/userinfo" {
		e.finishUserinfo(r, body, log)
		return
	}
	if e.status >= 500 {
		log.ErrorContext(r.Context(), "protocol endpoint failed", "path", r.URL.Path, "status", e.status, "detail", string(body))
		writeError(w, browser, http.StatusInternalServerError, "server_error", "internal error")
		return
	}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if e.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="twofold"`)
		}
		w.WriteHeader(e.status)
		w.Write(body)
		return
	}
	// Plain-text errors: keep the message only when it is one of the
	// library's fixed sentences, never a wrapped internal error.
	msg := "the request is invalid"
	if len(body) < 300 && !bytes.ContainsAny(body, "\n\r") {
		msg = string(body)
	}
	switch e.status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="twofold"`)
		writeError(w, browser, e.status, "invalid_client", "client authentication failed")
	default:
		writeError(w, browser, e.status, "invalid_request", msg)
	}
}

// finishUserinfo words userinfo's failures as RFC 6750 §3.1 asks, the
// body saying what the challenge says: no token is 401 with a bare Bearer
// challenge; a token that is malformed, unknown, expired or revoked is 401
// invalid_token (zitadel/oidc said 403, with no challenge, for the last
// two); a client's own token, with no user, is 403 insufficient_scope.
func (e *errorRewriter) finishUserinfo(r *http.Request, body []byte, log *slog.Logger) {
	w := e.ResponseWriter
	var parsed struct {
		Error string `json:"error"`
	}
	json.Unmarshal(body, &parsed)
	switch {
	case e.status >= 500 || parsed.Error == string(oidc.ServerError):
		log.ErrorContext(r.Context(), "protocol endpoint failed", "path", r.URL.Path, "status", e.status, "detail", string(body))
		writeError(w, nil, http.StatusInternalServerError, "server_error", "internal error")
	case r.Header.Get("Authorization") == "" && r.Form.Get("access_token") == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="twofold"`)
		writeError(w, nil, http.StatusUnauthorized, "invalid_request", "an access token is required (Authorization: Bearer)")
	case parsed.Error == errInsufficientScope:
		w.Header().Set("WWW-Authenticate", `Bearer realm="twofold", error="insufficient_scope"`)
		writeError(w, nil, http.StatusForbidden, parsed.Error, "the access token was issued to a client, not for a user")
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="twofold", error="invalid_token"`)
		writeError(w, nil, http.StatusUnauthorized, errInvalidToken, "the access token is invalid, expired or revoked")
	}
}

// writeInternal answers a failure of our own: 503 when the database is
// unavailable, else server_error.
func writeInternal(w http.ResponseWriter, err error) {
	if errors.Is(err, storage.ErrUnavailable) {
		writeUnavailable(w, nil)
		return
	}
	writeError(w, nil, http.StatusInternalServerError, "server_error", "internal error")
}

// writeError answers with an OAuth error: JSON for API endpoints, a page for
// the browser ones.
func writeError(w http.ResponseWriter, browser *pageLang, status int, code string, desc string) {
	w.Header().Del("Content-Length")
	if browser != nil {
		heading, text := i18n.M("error.unknown_request_heading"), forPeople(desc)
		if status >= 500 {
			heading, text = i18n.M("error.internal_heading"), i18n.M("error.internal")
		}
		browser.write(w, status, heading, text)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// forPeople rewords zitadel/oidc's descriptions of the mistakes a person
// meets in the browser (a link from a misconfigured application); other
// descriptions are already plain.
func forPeople(desc string) i18n.Message {
	switch {
	case strings.Contains(desc, "unable to retrieve client by id"):
		return i18n.M("error.unregistered_client")
	case strings.Contains(desc, "redirect_uri is missing in the client configuration"):
		return i18n.M("error.unregistered_redirect")
	}
	return i18n.M("error.protocol", "Detail", desc)
}

// pageLang is a browser's answer: the pages, in the language it reads.
// Nil answers an API client (JSON).
type pageLang struct {
	pages *i18n.Pages
	tag   language.Tag
}

// write answers with the error page (error.html), in full or not at all.
func (b *pageLang) write(w http.ResponseWriter, status int, heading, text i18n.Message) {
	var buf bytes.Buffer
	bundle := b.pages.Bundle()
	err := b.pages.Execute(&buf, b.tag, "error.html", map[string]any{"Title": heading.ID, "NoLanguageSwitch": true,
		"Heading": bundle.Localize(b.tag, heading), "Error": bundle.Localize(b.tag, text)})
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if err != nil {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("internal error\n"))
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", b.tag.String())
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// browserPage is the page language of r on a browser path, nil on an API
// one.
func (p *Provider) browserPage(r *http.Request, browser bool) *pageLang {
	if !browser {
		return nil
	}
	return &pageLang{p.opts.Pages, p.lang(r, r.Form.Get("ui_locales"))}
}

// Health reports whether the store answers.
func (p *Provider) Health(ctx context.Context) error { return p.storage.Health(ctx) }

// lang is the language of a page the provider answers r with: the
// request's ui_locales (a space-separated list), else the browser's
// choice (i18n.Choose).
func (p *Provider) lang(r *http.Request, uiLocales string) language.Tag {
	r = i18n.Prepare(r)
	i18n.SetSignIn(r.Context(), "", strings.Fields(uiLocales))
	return p.opts.Pages.Bundle().Choose(r)
}
