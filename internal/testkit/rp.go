package testkit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/keyring"
)

// ClientOptions describe a client to register for a test.
type ClientOptions = admin.ClientSpec

// RP is a relying party of the test server, driven with zitadel/oidc's rp
// package: discovery, ID token verification and code exchange are the
// library's, not ours.
type RP struct {
	ID, Secret, RedirectURI string
	Party                   rp.RelyingParty
	Spec                    ClientOptions
	authMethod              string // as registered
	s                       *Server
	t                       testing.TB
}

// NewRP registers a client (default: confidential, code + refresh, redirect
// https://rp.example/callback) and returns a relying party for it.
func (s *Server) NewRP(t testing.TB, o ClientOptions) *RP {
	t.Helper()
	if len(o.RedirectURIs) == 0 && !(len(o.GrantTypes) == 1 && o.GrantTypes[0] == "client_credentials") {
		o.RedirectURIs = []string{"https://rp.example/callback"}
	}
	if o.Name == "" {
		o.Name = "Test app"
	}
	c, secret, err := admin.NewClientRecord(o, s.App.Ring, s.Clock.Now())
	if err != nil {
		t.Fatalf("client spec: %v", err)
	}
	if err := s.App.Store.CreateClient(context.Background(), c); err != nil {
		t.Fatalf("create client: %v", err)
	}
	r := &RP{ID: c.ID, Secret: secret, Spec: o, s: s, t: t}
	if len(o.RedirectURIs) > 0 {
		r.RedirectURI = o.RedirectURIs[0]
	}
	r.authMethod = c.AuthMethod
	r.Party = r.party(c.AuthMethod)
	return r
}

// party builds the library's relying party, configured, as a relying
// party must be, to authenticate with the client's registered method
// (twofold accepts no other at the token endpoint; the library's refresh
// and revocation helpers would send the secret in the body by default),
// and with opts (which may override the auth style).
func (r *RP) party(authMethod string, opts ...rp.Option) rp.RelyingParty {
	r.t.Helper()
	httpClient := &http.Client{Transport: r.s.Transport()}
	style := oauth2.AuthStyleInParams // client_secret_post, and public clients' client_id
	if authMethod == "client_secret_basic" {
		style = oauth2.AuthStyleInHeader
	}
	party, err := rp.NewRelyingPartyOIDC(context.Background(), r.s.URL, r.ID, r.Secret, r.RedirectURI,
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
		append([]rp.Option{rp.WithHTTPClient(httpClient), rp.WithAuthStyle(style)}, opts...)...)
	if err != nil {
		r.t.Fatalf("relying party: %v", err)
	}
	return party
}

// Reconfigure rebuilds the relying party with extra rp options (the
// algorithms it verifies, a JWT-profile signer, an auth style).
func (r *RP) Reconfigure(opts ...rp.Option) {
	r.t.Helper()
	r.Party = r.party(r.authMethod, opts...)
}

// CreateUser adds a user with a password and no second factor.
func (s *Server) CreateUser(t testing.TB, username, password string) string {
	t.Helper()
	return s.CreateUserWith(t, UserSpec{Username: username, Password: password})
}

// Browser is a user agent: a cookie jar and a client that does not follow
// redirects, so every hop can be checked.
type Browser struct {
	HTTP *http.Client
	t    testing.TB
	s    *Server
}

// NewBrowser returns a fresh browser (no cookies).
func (s *Server) NewBrowser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, s: s, HTTP: &http.Client{
		Transport:     s.Transport(),
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Page is a fetched response with its body read.
type Page struct {
	Status   int
	Location string
	Body     string
	Header   http.Header
}

// Get fetches a URL (relative to the server when it starts with /).
func (b *Browser) Get(u string) *Page {
	b.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.s.URL + u
	}
	resp, err := b.HTTP.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	return readPage(b.t, resp)
}

// Post submits a form (path relative to the server).
func (b *Browser) Post(path string, form url.Values) *Page {
	b.t.Helper()
	resp, err := b.HTTP.PostForm(b.s.URL+path, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	return readPage(b.t, resp)
}

func readPage(t testing.TB, resp *http.Response) *Page {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(body), Header: resp.Header}
}

var hiddenRE = regexp.MustCompile(`name="([A-Za-z_]+)" value="([^"]*)"`)

// Field returns the value of a named (hidden) input on the page.
func (p *Page) Field(name string) string {
	for _, m := range hiddenRE.FindAllStringSubmatch(p.Body, -1) {
		if m[1] == name {
			return htmlUnescape(m[2])
		}
	}
	return ""
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// Flow is one authorization request in progress.
type Flow struct {
	RP       *RP
	B        *Browser
	Verifier string
	State    string
	Page     *Page // the last page the browser is on
}

// AuthParams are extra authorize parameters (prompt, max_age, …).
type AuthParams map[string]string

// Start sends the browser to /authorize with PKCE (S256) and follows the
// redirect to the login page (or, with SSO, to the client).
func (r *RP) Start(b *Browser, extra AuthParams) *Flow {
	r.t.Helper()
	f := &Flow{RP: r, B: b, Verifier: keyring.RandomToken(32), State: keyring.RandomToken(8)}
	sum := sha256.Sum256([]byte(f.Verifier))
	opts := []rp.AuthURLOpt{rp.WithCodeChallenge(base64.RawURLEncoding.EncodeToString(sum[:]))}
	for k, v := range extra {
		opts = append(opts, rp.AuthURLOpt(rp.WithURLParam(k, v)))
	}
	f.Page = b.Get(rp.AuthURL(f.State, r.Party, opts...))
	f.follow()
	return f
}

// follow follows redirects inside the provider, stopping at a page or at
// the client's redirect URI.
func (f *Flow) follow() {
	for i := 0; f.Page.Location != "" && i < 10; i++ {
		loc := f.Page.Location
		if f.RP.RedirectURI != "" && strings.HasPrefix(loc, f.RP.RedirectURI) {
			return
		}
		if strings.HasPrefix(loc, "/") {
			loc = f.B.s.URL + loc
		}
		if !strings.HasPrefix(loc, f.B.s.URL) {
			f.RP.t.Fatalf("redirect out of the provider to %s", loc)
		}
		f.Page = f.B.Get(loc)
	}
}

// Password submits the password form of the current page.
func (f *Flow) Password(username, password string) *Flow {
	f.RP.t.Helper()
	id := f.Page.Field("authRequestID")
	if id == "" {
		f.RP.t.Fatalf("no password form on the page (status %d):\n%s", f.Page.Status, f.Page.Body)
	}
	f.Page = f.B.Post("/login/password", url.Values{"authRequestID": {id}, "username": {username}, "password": {password}})
	f.follow()
	return f
}

// SubmitCode submits the code page's form.
func (f *Flow) SubmitCode(code string) *Flow {
	f.RP.t.Helper()
	id := f.Page.Field("authRequestID")
	if id == "" || !strings.Contains(f.Page.Body, `autocomplete="one-time-code"`) {
		f.RP.t.Fatalf("not on the code page: %s", f.Page)
	}
	f.Page = f.B.Post("/login/code", url.Values{"authRequestID": {id}, "code": {code}})
	f.follow()
	return f
}

// PostCodeForm posts one of the code page's other forms (resend, method).
func (f *Flow) PostCodeForm(path string, extra url.Values) *Flow {
	f.RP.t.Helper()
	form := url.Values{"authRequestID": {f.Page.Field("authRequestID")}}
	for k, v := range extra {
		form[k] = v
	}
	f.Page = f.B.Post(path, form)
	f.follow()
	return f
}

// Callback returns the query of the redirect to the client; it fails the
// test when the browser is not there.
func (f *Flow) Callback() url.Values {
	f.RP.t.Helper()
	if !strings.HasPrefix(f.Page.Location, f.RP.RedirectURI) {
		f.RP.t.Fatalf("expected a redirect to the client, got status %d location %q:\n%s", f.Page.Status, f.Page.Location, f.Page.Body)
	}
	u, err := url.Parse(f.Page.Location)
	if err != nil {
		f.RP.t.Fatal(err)
	}
	if got := u.Query().Get("state"); got != f.State {
		f.RP.t.Fatalf("state = %q, want %q", got, f.State)
	}
	return u.Query()
}

// Code returns the authorization code of the redirect to the client.
func (f *Flow) Code() string {
	f.RP.t.Helper()
	q := f.Callback()
	if q.Get("code") == "" {
		f.RP.t.Fatalf("no code in the callback: %v", q)
	}
	return q.Get("code")
}

// Exchange redeems a code with the flow's verifier; the rp library verifies
// the ID token's signature, issuer, audience and nonce-less claims.
func (f *Flow) Exchange(code string) (*oidc.Tokens[*oidc.IDTokenClaims], error) {
	return rp.CodeExchange[*oidc.IDTokenClaims](context.Background(), code, f.RP.Party, rp.WithCodeVerifier(f.Verifier))
}

// Login runs a whole password sign-in and returns the verified tokens.
func (r *RP) Login(b *Browser, username, password string) *oidc.Tokens[*oidc.IDTokenClaims] {
	r.t.Helper()
	f := r.Start(b, nil).Password(username, password)
	tokens, err := f.Exchange(f.Code())
	if err != nil {
		r.t.Fatalf("code exchange: %v", err)
	}
	return tokens
}

// String describes a page for failure messages.
func (p *Page) String() string {
	return fmt.Sprintf("status %d, location %q, body:\n%s", p.Status, p.Location, p.Body)
}
