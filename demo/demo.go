// Package demo is the built-in relying party of development mode: /demo runs
// a real authorization-code + PKCE sign-in against the provider with
// zitadel/oidc's rp package and shows the ID token's claims and the userinfo
// response. It is a relying party like any other: it talks HTTP to the
// issuer (discovery, token, JWKS, userinfo), so the issuer must be
// reachable from the server itself, as development mode's issuer, its own
// listen address, is.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"log/slog"
	"net/http"
	"sync"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/keyring"
)

// ClientID is the id of the demo client seeded in development mode.
const ClientID = "demo"

// RedirectPath is the demo client's callback path.
const RedirectPath = "/demo/callback"

// Demo serves /demo.
type Demo struct {
	issuer  string
	client  *http.Client
	pages   *i18n.Pages
	cookies *httphelper.CookieHandler
	log     *slog.Logger

	mu sync.Mutex
	rp rp.RelyingParty // set once discovery succeeded
}

// New returns the demo; client is its HTTP client to the issuer.
func New(issuer string, client *http.Client, pages *i18n.Pages, ring *keyring.Keyring, secure bool, log *slog.Logger) *Demo {
	var opts []httphelper.CookieHandlerOpt
	if !secure {
		opts = append(opts, httphelper.WithUnsecure())
	}
	key := ring.Derive("twofold demo cookies v1")
	return &Demo{issuer: issuer, client: client, pages: pages, log: log,
		cookies: httphelper.NewCookieHandler(key, key, opts...)}
}

// Mount registers /demo, /demo/login and /demo/callback.
func (d *Demo) Mount(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	mux.Handle("GET /demo", wrap(http.HandlerFunc(d.home)))
	mux.Handle("GET /demo/login", wrap(http.HandlerFunc(d.login)))
	mux.Handle("GET "+RedirectPath, wrap(http.HandlerFunc(d.callback)))
}

// relyingParty returns the relying party, reading the issuer's discovery
// document the first time; a failed attempt (the issuer not reachable yet)
// is tried again on the next request.
func (d *Demo) relyingParty(ctx context.Context) (rp.RelyingParty, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rp != nil {
		return d.rp, nil
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, d.issuer, ClientID, "", d.issuer+RedirectPath,
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone},
		rp.WithPKCE(d.cookies), rp.WithHTTPClient(d.client),
		rp.WithErrorHandler(d.rpError))
	if err != nil {
		return nil, err
	}
	d.rp = party
	return party, nil
}

func (d *Demo) home(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusOK, map[string]any{"Title": "demo.title"})
}

func (d *Demo) login(w http.ResponseWriter, r *http.Request) {
	party, err := d.relyingParty(r.Context())
	if err != nil {
		d.fail(w, r, err)
		return
	}
	var extra []rp.URLParamOpt
	if r.URL.Query().Get("prompt") == "login" {
		extra = append(extra, rp.WithPromptURLParam("login"))
	}
	rp.AuthURLHandler(func() string { return keyring.RandomToken(16) }, party, extra...).ServeHTTP(w, r)
}

func (d *Demo) callback(w http.ResponseWriter, r *http.Request) {
	// rp keeps the state in a cookie it deletes once used: a reloaded or
	// bookmarked callback would get its plain-text 401.
	if _, err := r.Cookie("state"); err != nil {
		d.render(w, r, http.StatusBadRequest, map[string]any{"Title": "demo.title_finished",
			"Error": d.say(r, "demo.finished")})
		return
	}
	party, err := d.relyingParty(r.Context())
	if err != nil {
		d.fail(w, r, err)
		return
	}
	show := func(w http.ResponseWriter, r *http.Request, tokens *oidc.Tokens[*oidc.IDTokenClaims], _ string, _ rp.RelyingParty, info *oidc.UserInfo) {
		d.render(w, r, http.StatusOK, map[string]any{
			"Title":    "demo.title_signed_in",
			"Claims":   pretty(tokens.IDTokenClaims),
			"Userinfo": pretty(info),
			"AMR":      tokens.IDTokenClaims.AuthenticationMethodsReferences,
			"ACR":      tokens.IDTokenClaims.AuthenticationContextClassReference,
			"IDToken":  tokens.IDToken,
			"Subject":  displayName(tokens.IDTokenClaims.Subject, info),
			"LogoutTo": d.issuer + "/demo",
		})
	}
	rp.CodeExchangeHandler(rp.UserinfoCallback(show), party).ServeHTTP(w, r)
}

func (d *Demo) rpError(w http.ResponseWriter, r *http.Request, errorType, desc, _ string) {
	d.render(w, r, http.StatusBadRequest, map[string]any{"Title": "demo.title_failed", "Error": fmt.Sprintf("%s: %s", errorType, desc)})
}

func (d *Demo) fail(w http.ResponseWriter, r *http.Request, err error) {
	d.log.ErrorContext(r.Context(), "demo failed", "err", err)
	d.render(w, r, http.StatusInternalServerError, map[string]any{"Title": "demo.title_unavailable", "Error": d.say(r, "demo.unreachable")})
}

func (d *Demo) render(w http.ResponseWriter, r *http.Request, status int, data map[string]any) {
	var buf bytes.Buffer
	if err := d.pages.Execute(&buf, d.pages.Bundle().Choose(r), "demo.html", data); err != nil {
		d.log.ErrorContext(r.Context(), "demo template", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// displayName is the username the userinfo gives, else the subject.
func displayName(subject string, info *oidc.UserInfo) string {
	if info != nil && info.PreferredUsername != "" {
		return info.PreferredUsername
	}
	return subject
}

func pretty(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// say says a catalogue message in the page's language.
func (d *Demo) say(r *http.Request, id string) string {
	return d.pages.Bundle().Text(d.pages.Bundle().Choose(r), id)
}
