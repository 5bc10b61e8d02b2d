package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/keyring"
)

// These tests drive a real headless Chromium (TWOFOLD_TEST_CHROMIUM) through
// the sign-in pages: cookies, redirects, CSP, cross-origin protection and
// the forms as a browser sees them, which the cookie-jar client of the
// other e2e tests cannot check. They run on SQLite only: the database is
// covered by the other tests, the browser is what is under test here.

// tab is one Chromium tab of a test; every failing step dumps the page and
// takes a screenshot before the test fails.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// newTab starts Chromium (or skips the test) before any server starts, and
// closes it before those servers stop: a server's graceful shutdown would
// otherwise wait on the sockets Chromium opens speculatively, which
// net/http gives 5 s to send a request.
func newTab(t *testing.T) *tab {
	return &tab{t: t, ctx: testkit.Chromium(t)}
}

// closeBeforeServers registers the browser's close as a cleanup that runs
// ahead of those of the servers started so far (cleanups run last-in
// first-out).
func (b *tab) closeBeforeServers() {
	b.t.Cleanup(func() {
		if err := chromedp.Cancel(b.ctx); err != nil {
			b.t.Logf("close chromium: %v", err)
		}
	})
}

// fail records what the browser shows and ends the test.
func (b *tab) fail(format string, args ...any) {
	b.t.Helper()
	testkit.DumpPage(b.t, b.ctx)
	testkit.Screenshot(b.t, b.ctx, "failure")
	b.t.Fatalf(format, args...)
}

// do runs steps that do not navigate.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fail("%s: %v", what, err)
	}
}

// load runs steps that start a navigation and waits for the page that
// ends it (after any redirects); it returns that page's response.
func (b *tab) load(what string, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, steps...)
	if err != nil {
		b.fail("%s: %v", what, err)
	}
	return resp
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail("text of %s: %v", sel, err)
	}
	return v
}

func (b *tab) value(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.fail("value of %s: %v", sel, err)
	}
	return v
}

func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		b.fail("attribute %s of %s: %v", name, sel, err)
	}
	if !v.Exists {
		b.fail("%s has no %s attribute", sel, name)
	}
	return v.Value
}

func (b *tab) location() *url.URL {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.fail("location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.fail("location %q: %v", loc, err)
	}
	return u
}

// wantPath fails unless the tab shows a page of origin with this path.
func (b *tab) wantPath(origin, path string) {
	b.t.Helper()
	u := b.location()
	if got := u.Scheme + "://" + u.Host; got != origin || u.Path != path {
		b.fail("on %s, want %s%s", u, origin, path)
	}
}

// count returns how many elements match a CSS selector, without waiting.
func (b *tab) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.fail("count %s: %v", sel, err)
	}
	return n
}

// checkPasswordForm checks the password page is an accessible form a
// password manager understands: labelled inputs with the right
// autocomplete tokens.
func (b *tab) checkPasswordForm() {
	b.t.Helper()
	b.do("wait for the password form", chromedp.WaitVisible(chromedp.ID("password")))
	for _, f := range []struct{ id, autocomplete, label string }{
		{"username", "username", "Username"},
		{"password", "current-password", "Password"},
	} {
		if got := b.attr("#"+f.id, "autocomplete"); got != f.autocomplete {
			b.fail("#%s autocomplete = %q, want %q", f.id, got, f.autocomplete)
		}
		if got := strings.TrimSpace(b.text(fmt.Sprintf("label[for=%q]", f.id))); got != f.label {
			b.fail("label of #%s = %q, want %q", f.id, got, f.label)
		}
	}
	if got := b.attr("#password", "type"); got != "password" {
		b.fail("#password type = %q, want password", got)
	}
}

// signIn types credentials into the password page and submits it.
func (b *tab) signIn(username, password string) *network.Response {
	b.t.Helper()
	b.do("type credentials",
		chromedp.Clear(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	return b.load("submit the password form", chromedp.Click(chromedp.CSS(`form[action="/login/password"] button[type="submit"]`)))
}

// wantHeaders checks the headers every sign-in page carries. Header names
// are matched case-insensitively (HTTP/2 lower-cases them).
func wantHeaders(b *tab, resp *network.Response) {
	b.t.Helper()
	get := func(name string) string {
		for k, v := range resp.Headers {
			if strings.EqualFold(k, name) {
				return fmt.Sprint(v)
			}
		}
		return ""
	}
	if csp := get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		b.fail("%s: Content-Security-Policy = %q, want frame-ancestors 'none'", resp.URL, csp)
	}
	if got := get("Cache-Control"); got != "no-store" {
		b.fail("%s: Cache-Control = %q, want no-store", resp.URL, got)
	}
	if got := get("Referrer-Policy"); got != "no-referrer" {
		b.fail("%s: Referrer-Policy = %q, want no-referrer", resp.URL, got)
	}
}

// devServer starts a development-mode server with the demo client and
// demo user seeded.
func devServer(t *testing.T) *testkit.Server {
	t.Helper()
	s := testkit.NewServer(t, testkit.ServerOptions{Configure: func(c *config.Config) { c.Dev = true }})
	if _, err := s.App.SeedDev(context.Background()); err != nil {
		t.Fatalf("seed dev: %v", err)
	}
	return s
}

// devCodeRE finds the codes the development sender logs.
var devCodeRE = regexp.MustCompile(`msg="one-time code \(development only\)".* code=([0-9]+)`)

// lastDevCode returns the newest one-time code the development sender
// printed to the server's log.
func lastDevCode(t *testing.T, s *testkit.Server) string {
	t.Helper()
	m := devCodeRE.FindAllStringSubmatch(s.Log.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no one-time code in the server log:\n%s", s.Log.String())
	}
	return m[len(m)-1][1]
}

// demoResult reads the ID token claims and userinfo the demo shows.
func demoResult(b *tab) (claims, userinfo string) {
	b.t.Helper()
	return b.text("#claims"), b.text("#userinfo")
}

func wantContains(b *tab, what, s string, subs ...string) {
	b.t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			b.fail("%s does not contain %s:\n%s", what, sub, s)
		}
	}
}

func TestBrowserDemoSignIn(t *testing.T) {
	b := newTab(t)
	s := devServer(t)
	b.closeBeforeServers()

	resp := b.load("open the demo", chromedp.Navigate(s.URL+"/demo"))
	if resp.Status != http.StatusOK {
		b.fail("GET /demo: status %d", resp.Status)
	}
	wantHeaders(b, resp)

	resp = b.load("click sign in", chromedp.Click(chromedp.ID("start")))
	b.wantPath(s.URL, "/login")
	wantHeaders(b, resp)
	b.checkPasswordForm()
	wantContains(b, "password page", b.text("main"), "twofold demo") // the client's name

	// The demo user has SMS as a second factor, so the password leads to
	// the code page; in development mode the code goes to the log.
	b.signIn(server.DemoUsername, server.DemoPassword)
	b.wantPath(s.URL, "/login/code")
	b.do("wait for the code form", chromedp.WaitVisible(chromedp.ID("code")))
	if got := b.attr("#code", "autocomplete"); got != "one-time-code" {
		b.fail("#code autocomplete = %q, want one-time-code", got)
	}
	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), lastDevCode(t, s)))
	resp = b.load("submit the code", chromedp.Click(chromedp.CSS(`form[action="/login/code"] button[type="submit"]`)))
	if resp.Status != http.StatusOK {
		b.fail("callback: status %d", resp.Status)
	}
	b.wantPath(s.URL, "/demo/callback")

	claims, userinfo := demoResult(b)
	wantContains(b, "ID token claims", claims,
		`"iss": "`+s.URL+`"`, `"aud": [`, `"demo"`, `"amr": [`, `"pwd"`, `"sms"`,
		`"acr": "urn:twofold:acr:2fa"`)
	if !regexp.MustCompile(`"amr": \[[^\]]*"pwd"`).MatchString(claims) {
		b.fail(`"amr" does not list "pwd":\n%s`, claims)
	}
	wantContains(b, "ID token claims", claims, `"preferred_username": "demo"`)
	wantContains(b, "userinfo", userinfo, `"preferred_username": "demo"`, `"email": "demo@example.com"`)

	// Dev-mode cookies: no __Host- prefix, no Secure.
	cookies, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL + "/"}})
	if err != nil {
		b.fail("get cookies: %v", err)
	}
	var names []string
	for _, c := range cookies.Cookies {
		names = append(names, c.Name)
		if c.Name == "twofold_session" && (!c.HTTPOnly || c.Secure) {
			b.fail("dev session cookie: HttpOnly=%v Secure=%v, want HttpOnly and not Secure", c.HTTPOnly, c.Secure)
		}
	}
	if !slices.Contains(names, "twofold_session") {
		b.fail("no twofold_session cookie after sign-in; cookies: %v", names)
	}

	// Sign out everywhere: a form POST to /end_session, back to /demo.
	b.load("sign out", chromedp.Click(chromedp.CSS(`form[action="/end_session"] button[type="submit"]`)))
	b.wantPath(s.URL, "/demo")
	b.do("wait for the sign-in link", chromedp.WaitVisible(chromedp.ID("start")))
	if n := b.count("#claims"); n != 0 {
		b.fail("claims still shown after sign-out")
	}

	// The SSO session is gone: a new sign-in asks for the password.
	b.load("sign in again", chromedp.Click(chromedp.ID("start")))
	b.wantPath(s.URL, "/login")
	b.checkPasswordForm()
}

func TestBrowserSignInWrongPassword(t *testing.T) {
	b := newTab(t)
	s := devServer(t)
	b.closeBeforeServers()
	s.CreateUser(t, "alice", "correct horse battery")

	b.load("open the demo", chromedp.Navigate(s.URL+"/demo"))
	b.load("click sign in", chromedp.Click(chromedp.ID("start")))
	b.checkPasswordForm()

	resp := b.signIn("alice", "wrong password")
	if resp.Status != http.StatusUnauthorized {
		b.fail("wrong password: status %d, want 401", resp.Status)
	}
	b.wantPath(s.URL, "/login/password")
	b.do("wait for the error", chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)))
	if got := strings.TrimSpace(b.text(`[role="alert"]`)); got != "Wrong username or password." {
		b.fail("alert = %q, want %q", got, "Wrong username or password.")
	}
	if got := b.value("#username"); got != "alice" {
		b.fail("username field = %q after a wrong password, want it kept", got)
	}
	if got := b.value("#password"); got != "" {
		b.fail("password field = %q after a wrong password, want it empty", got)
	}
	if got := b.attr("#password", "aria-invalid"); got != "true" {
		b.fail("#password aria-invalid = %q, want true", got)
	}
	b.checkPasswordForm()

	// The username is kept: only the password needs typing.
	b.do("type the right password", chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"))
	b.load("submit the password form", chromedp.Click(chromedp.CSS(`form[action="/login/password"] button[type="submit"]`)))
	b.wantPath(s.URL, "/demo/callback")
	claims, userinfo := demoResult(b)
	wantContains(b, "ID token claims", claims, `"pwd"`, `"acr": "urn:twofold:acr:pwd"`)
	wantContains(b, "userinfo", userinfo, `"preferred_username": "alice"`)
}

func TestBrowserRegisteredClient(t *testing.T) {
	b := newTab(t)
	s := testkit.NewServer(t, testkit.ServerOptions{}) // production cookies: Secure, __Host-
	userID := s.CreateUser(t, "bob", "bob's long password")

	// The client's own server receives the browser at its redirect URI.
	type callback struct {
		query  url.Values
		origin string
	}
	got := make(chan callback, 1)
	client := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r)
			return
		}
		select {
		case got <- callback{r.URL.Query(), r.Header.Get("Referer")}:
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><p id="done">signed in</p>`)
	}))
	t.Cleanup(client.Close)
	b.closeBeforeServers()
	relying := s.NewRP(t, testkit.ClientOptions{Name: "Browser test app", RedirectURIs: []string{client.URL + "/cb"}})

	verifier, state := keyring.RandomToken(32), keyring.RandomToken(8)
	sum := sha256.Sum256([]byte(verifier))
	authURL := rp.AuthURL(state, relying.Party, rp.WithCodeChallenge(base64.RawURLEncoding.EncodeToString(sum[:])))

	resp := b.load("open the authorization URL", chromedp.Navigate(authURL))
	if resp.Status != http.StatusOK {
		b.fail("authorize: status %d", resp.Status)
	}
	b.wantPath(s.URL, "/login")
	wantHeaders(b, resp)
	b.checkPasswordForm()
	wantContains(b, "password page", b.text("main"), "Browser test app")

	resp = b.signIn("bob", "bob's long password")
	if resp.Status != http.StatusOK {
		b.fail("client callback: status %d", resp.Status)
	}
	b.wantPath(client.URL, "/cb")
	if got := b.text("#done"); got != "signed in" {
		b.fail("client page = %q", got)
	}

	var cb callback
	select {
	case cb = <-got:
	default:
		b.fail("the client never received the callback")
	}
	if cb.query.Get("state") != state {
		t.Errorf("callback state = %q, want %q", cb.query.Get("state"), state)
	}
	code := cb.query.Get("code")
	if code == "" {
		t.Fatalf("callback without a code: %v", cb.query)
	}
	if cb.origin != "" {
		t.Errorf("callback carried Referer %q; the provider's pages send none", cb.origin)
	}
	if iss := cb.query.Get("iss"); iss != "" && iss != s.URL {
		t.Errorf("callback iss = %q, want %q", iss, s.URL)
	}

	// The provider's cookies are Secure, HttpOnly, __Host- cookies, and
	// Chromium took them over HTTPS.
	cookies, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL + "/"}})
	if err != nil {
		b.fail("get cookies: %v", err)
	}
	have := map[string]bool{}
	for _, c := range cookies.Cookies {
		have[c.Name] = true
		if !strings.HasPrefix(c.Name, "__Host-") {
			continue
		}
		if !c.Secure || !c.HTTPOnly || c.Path != "/" {
			t.Errorf("cookie %s: Secure=%v HttpOnly=%v Path=%q", c.Name, c.Secure, c.HTTPOnly, c.Path)
		}
	}
	for _, name := range []string{"__Host-twofold_browser", "__Host-twofold_session"} {
		if !have[name] {
			t.Errorf("Chromium holds no %s cookie; it has %v", name, have)
		}
	}

	// The relying party redeems the code the browser brought, with PKCE;
	// zitadel's rp verifies the ID token.
	ctx := context.Background()
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, relying.Party, rp.WithCodeVerifier(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tokens.IDTokenClaims.Subject != userID {
		t.Errorf("sub = %q, want %q", tokens.IDTokenClaims.Subject, userID)
	}
	if amr := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Contains(amr, "pwd") {
		t.Errorf("amr = %v, want pwd", amr)
	}
	if tokens.AccessToken == "" {
		t.Error("no access token")
	}
	info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, relying.Party)
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.PreferredUsername != "bob" {
		t.Errorf("userinfo preferred_username = %q, want bob", info.PreferredUsername)
	}

	// The code is single-use: a replay fails.
	if _, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, relying.Party, rp.WithCodeVerifier(verifier)); err == nil {
		t.Error("the code was redeemed twice")
	}
}
