package e2e

// The security suite, part two: the web surface (CSRF, cookies, headers),
// the protocol endpoints (PKCE, redirects, revocation), malformed input and
// the grep for secrets. Part one is security_test.go.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/storage"
)

// A cross-site form post is refused before it reaches the sign-in.
func TestSecurityCSRF(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	id := app.Start(b, nil).Page.Field("authRequestID")
	form := url.Values{"authRequestID": {id}, "username": {"alice"}, "password": {"alice-password"}}
	for _, h := range []http.Header{
		{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}},
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}}, // an older browser: Origin against Host
		{"Origin": {"null"}, "Sec-Fetch-Site": {"cross-site"}},
	} {
		for _, path := range []string{"/login/password", "/login/code", "/account/password", "/account/logout"} {
			p := postForm(t, b, s.URL, path, form, h)
			if p.Status != http.StatusForbidden || len(p.Header.Values("Set-Cookie")) > 0 {
				t.Errorf("cross-site POST %s with %v: %s", path, h, p)
			}
			// The refusal is the HTML error page, with the page headers.
			if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") || !strings.Contains(p.Body, "sent from another site") ||
				!strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("cross-site POST %s with %v: not the HTML error page: %s %v", path, h, p, p.Header)
			}
		}
	}
	if got := auditDetails(t, s, "password_ok"); len(got) != 0 {
		t.Fatalf("a cross-site post signed in: %v", got)
	}
	p := postForm(t, b, s.URL, "/login/password", form, http.Header{"Origin": {s.URL}, "Sec-Fetch-Site": {"same-origin"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("same-origin post: %s", p)
	}
}

// A browser that asks for a page nothing serves gets the HTML error page;
// API clients and the protocol endpoints keep their own answers.
func TestSecurityUnknownPathPage(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	c := &http.Client{Transport: s.Transport()}
	browser := http.Header{"Accept": {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}}
	for _, path := range []string{"/no-such-page", "/login/nope", "/account/nope/deeper"} {
		p := send(t, c, "GET", s.URL+path, nil, browser)
		if p.Status != http.StatusNotFound || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.Body, "Page not found") || !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("browser GET %s: %s %v", path, p, p.Header)
		}
	}
	if p := send(t, c, "GET", s.URL+"/no-such-page", nil, http.Header{"Accept": {"application/json"}}); p.Status != http.StatusNotFound ||
		strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
		t.Errorf("API GET of an unknown path: %s %v", p, p.Header)
	}
	if p := send(t, c, "GET", s.URL+"/oauth/nope", nil, browser); strings.Contains(p.Body, "Page not found") {
		t.Errorf("a protocol path got the HTML page: %s", p)
	}
	if p := send(t, c, "GET", s.URL+"/.well-known/openid-configuration", nil, browser); p.Status != http.StatusOK || !strings.Contains(p.Body, `"issuer"`) {
		t.Errorf("discovery with a browser's Accept: %s", p)
	}
}

// Every cookie twofold sets outside development is __Host-, Secure,
// HttpOnly, SameSite=Lax and Path=/; each sign-in gets a new session id,
// whatever session cookie the browser arrived with (no fixation).
func TestSecurityCookies(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	name := s.App.Cfg.Session.CookieName
	base, _ := url.Parse(s.URL)
	planted := "planted-by-the-attacker-0123456789abcdef"
	b.HTTP.Jar.SetCookies(base, []*http.Cookie{{Name: name, Value: planted, Path: "/", Secure: true}})
	rec := record(b)

	var before []string // session ids the browser held before the code step
	f := app.Start(b, nil).Password("alice", "alice-password")
	for _, e := range rec.exchanges() {
		for _, c := range e.Cookies {
			if c.Name == name {
				before = append(before, c.Value)
			}
		}
	}
	f.SubmitCode(tw.LastCode(alicePhone)).Code()
	first := sessionCookie(t, b, base, name)
	if first == planted || slices.Contains(before, first) {
		t.Fatalf("the session id after the code was known before it (%q)", first)
	}
	g := app.Start(b, testkit.AuthParams{"prompt": "login"}).Password("alice", "alice-password")
	g.SubmitCode(tw.LastCode(alicePhone)).Code()
	if second := sessionCookie(t, b, base, name); second == first || second == planted {
		t.Fatal("a second sign-in kept the session id")
	}
	var seen []string
	for _, e := range rec.exchanges() {
		for _, c := range e.Cookies {
			seen = append(seen, c.Name)
			if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Errorf("cookie %s from %s: %s", c.Name, e.URL, c.String())
			}
		}
	}
	if !slices.Contains(seen, name) || !slices.Contains(seen, "__Host-twofold_browser") {
		t.Fatalf("cookies seen: %v", seen)
	}
}

func sessionCookie(t *testing.T, b *testkit.Browser, u *url.URL, name string) string {
	t.Helper()
	for _, c := range b.HTTP.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	t.Fatalf("no %s cookie", name)
	return ""
}

// Browser pages carry CSP frame-ancestors 'none', no-store and
// no-referrer; the token, userinfo and JWKS endpoints, which browsers call
// cross-origin, carry none of the page headers and answer CORS.
func TestSecurityHeaders(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	f := app.Start(b, nil)
	pages := map[string]*testkit.Page{"password page": f.Page}
	pages["code page"] = f.Password("alice", "alice-password").Page
	pages["wrong code"] = f.SubmitCode(wrongCode(tw.LastCode(alicePhone))).Page
	pages["login error page"] = b.Get("/login?authRequestID=unknown")
	pages["authorize error page"] = b.Get("/authorize?client_id=nope&response_type=code")
	pages["account page"] = b.Get("/account")
	pages["signed out"] = b.Get("/logged-out")
	for name, p := range pages {
		h := p.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: CSP %q, Cache-Control %q", name, h.Get("Content-Security-Policy"), h.Get("Cache-Control"))
		}
		if name != "authorize error page" && h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", name, h.Get("Referrer-Policy"))
		}
	}

	tokens, err := f.SubmitCode(tw.LastCode(alicePhone)).Exchange(f.Code())
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: s.Transport()}
	with := func(a, b http.Header) http.Header {
		out := a.Clone()
		for k, v := range b {
			out[k] = v
		}
		return out
	}
	cors := http.Header{"Origin": {"https://rp.example"}} // the origin of the client's redirect URI
	bearer := http.Header{"Origin": {"https://rp.example"}, "Authorization": {"Bearer " + tokens.AccessToken}}
	api := map[string]*testkit.Page{
		"/keys":     send(t, c, http.MethodGet, s.URL+"/keys", nil, cors),
		"/userinfo": send(t, c, http.MethodGet, s.URL+"/userinfo", nil, bearer),
		"/oauth/token": send(t, c, http.MethodPost, s.URL+"/oauth/token", strings.NewReader(url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {tokens.RefreshToken}}.Encode()), with(cors, basicAuth(app.ID, app.Secret))),
	}
	for path, p := range api {
		if p.Status != http.StatusOK {
			t.Fatalf("%s: %s", path, p)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"} {
			if v := p.Header.Get(h); v != "" {
				t.Errorf("%s carries %s: %q", path, h, v)
			}
		}
		if p.Header.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("%s answers no CORS to a cross-origin request: %v", path, p.Header)
		}
	}
	if cc := api["/keys"].Header.Get("Cache-Control"); !strings.Contains(cc, "public") {
		t.Errorf("/keys Cache-Control %q, want cacheable", cc)
	}
	if cc := api["/oauth/token"].Header.Get("Cache-Control"); cc != "no-store" { // RFC 6749 §5.1
		t.Errorf("/oauth/token Cache-Control %q", cc)
	}
	pre := send(t, c, http.MethodOptions, s.URL+"/oauth/token", nil, http.Header{"Origin": {"https://rp.example"}, "Access-Control-Request-Method": {"POST"}})
	if pre.Status >= 300 || pre.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("CORS preflight of /oauth/token: %s %v", pre, pre.Header)
	}
}

// PKCE other than S256 is refused for public clients (missing, plain and
// no method are in TestPKCERules), and plain for confidential ones too.
func TestSecurityPKCEMethods(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	spa := s.NewRP(t, testkit.ClientOptions{Public: true})
	web := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	for _, tc := range []struct {
		app               *testkit.RP
		method, challenge string
	}{
		{spa, "s256", strings.Repeat("a", 43)},
		{spa, "S512", strings.Repeat("a", 43)},
		{spa, "S256", ""},
		{spa, "S256", strings.Repeat("a", 44)},
		{spa, "S256", strings.Repeat("+", 43)},
		{web, "plain", strings.Repeat("a", 43)},
	} {
		q := url.Values{"client_id": {tc.app.ID}, "redirect_uri": {tc.app.RedirectURI}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"s"}, "code_challenge_method": {tc.method}}
		if tc.challenge != "" {
			q.Set("code_challenge", tc.challenge)
		}
		p := b.Get("/authorize?" + q.Encode())
		loc, _ := url.Parse(p.Location)
		if p.Status != http.StatusFound || loc == nil || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("method %q challenge %q: %s", tc.method, tc.challenge, p)
		}
	}
}

// Redirect URIs must match exactly: look-alikes get 400 with no Location,
// and end_session never redirects to an unregistered address.
func TestSecurityOpenRedirects(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{PostLogoutRedirectURIs: []string{"https://rp.example/bye"}})
	b := s.NewBrowser(t)
	for _, uri := range []string{
		"https://rp.example/callback.evil.com", "https://rp.example.evil.com/callback",
		"https://rp.example@evil.com/callback", "https://rp.example%40evil.com/callback", "https://rp.example%2540evil.com/callback",
		"https://rp.example:443@evil.com/callback", "https://evil.com%2F@rp.example/callback", "https://evil.com\\@rp.example/callback",
		"https://rp.example/callback/..%2F..%2Fevil", "https://rp.example/callback%2F%2E%2E%2Fevil", "https://rp.example/callback#@evil.com",
		"https://rp.example/callback%23@evil.com", "https://rp.example/callback%00.evil.com", "https://rp.example/callback\r\nLocation: https://evil.com",
		"//evil.com", "//evil.com/callback", "/\\evil.com", "https:evil.com", "https:/evil.com/callback", "%2F%2Fevil.com",
		"javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "http://rp.example/callback", "",
	} {
		q := url.Values{"client_id": {app.ID}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
			"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		if uri != "" {
			q.Set("redirect_uri", uri)
		}
		p := b.Get("/authorize?" + q.Encode())
		if p.Status != http.StatusBadRequest || p.Location != "" {
			t.Errorf("redirect_uri %q: %s", uri, p)
		}
	}

	tokens := app.Login(b, "alice", "alice-password")
	for _, uri := range []string{"https://evil.example/bye", "https://rp.example/bye.evil.com", "https://rp.example@evil.com/bye", "//evil.com", "https://rp.example/callback"} {
		for _, q := range []url.Values{
			{"id_token_hint": {tokens.IDToken}, "post_logout_redirect_uri": {uri}, "state": {"x"}},
			{"client_id": {app.ID}, "post_logout_redirect_uri": {uri}},
			{"post_logout_redirect_uri": {uri}},
		} {
			p := b.Get("/end_session?" + q.Encode())
			if loc, _ := url.Parse(p.Location); p.Status >= 500 || (p.Location != "" && (loc == nil || loc.Host != "")) {
				t.Errorf("end_session %v: %s", q, p)
			}
		}
	}
	noServerErrors(t, s)
}

// What the other tests leave out: after a code replay and after a
// refresh-token reuse, userinfo and introspection refuse every token of
// the family.
func TestSecurityRevokedTokensRejectedEverywhere(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	ctx := context.Background()
	dead := func(what, token, subject string) {
		t.Helper()
		if active(t, s, app, token) {
			t.Errorf("%s: introspection says active", what)
		}
		if _, err := rp.Userinfo[*oidc.UserInfo](ctx, token, "Bearer", subject, app.Party); err == nil {
			t.Errorf("%s: userinfo accepted it", what)
		}
	}

	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	code := f.Code()
	replayed, err := f.Exchange(code)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Exchange(code); err == nil {
		t.Fatal("replayed code accepted")
	}
	dead("access token of a replayed code", replayed.AccessToken, replayed.IDTokenClaims.Subject)

	first := app.Login(s.NewBrowser(t), "alice", "alice-password")
	second, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, first.RefreshToken, "", "")
	if err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(3 * time.Second) // past tokens.refresh_reuse_grace
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, first.RefreshToken, "", ""); err == nil {
		t.Fatal("reused refresh token accepted")
	}
	dead("first access token of a reused family", first.AccessToken, first.IDTokenClaims.Subject)
	dead("rotated access token of a reused family", second.AccessToken, first.IDTokenClaims.Subject)

	third := app.Login(s.NewBrowser(t), "alice", "alice-password")
	if err := rp.RevokeToken(ctx, app.Party, third.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	dead("access token of a revoked refresh token", third.AccessToken, third.IDTokenClaims.Subject)
}

// Oversized and malformed input gets a clear 4xx or the form's message,
// never a 5xx or a panic.
func TestSecurityMalformedInput(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	id := app.Start(b, nil).Page.Field("authRequestID")
	login := func(username, password string) url.Values {
		return url.Values{"authRequestID": {id}, "username": {username}, "password": {password}}
	}
	for _, tc := range []struct {
		name     string
		form     url.Values
		status   int
		message  string
		rawBody  string // instead of form
		rawQuery string
	}{
		{name: "2 MB body", rawBody: "authRequestID=" + id + "&username=alice&password=" + strings.Repeat("a", 2<<20), status: http.StatusRequestEntityTooLarge},
		{name: "invalid UTF-8 username", form: login("ali\xffce\xfe", "x"), status: 400, message: "That request could not be read"},
		{name: "control characters", form: login("ali\x1b[31mce", "x"), status: 400, message: "That username is not valid."},
		{name: "NUL in username", form: login("alice\x00admin", "x"), status: 400, message: "That request could not be read"},
		{name: "10 000-character username", form: login(strings.Repeat("a", 10000), "x"), status: 400, message: "That username is not valid."},
		{name: "2000-byte password", form: login("alice", strings.Repeat("p", 2000)), status: 400, message: "That password is too long"},
		{name: "SQL username", form: login("' OR 1=1 --", "x"), status: 401, message: "Wrong username or password."},
		{name: "SQL password", form: login("alice", "' OR '1'='1"), status: 401, message: "Wrong username or password."},
		{name: "NUL in password", form: login("alice", "alice-password\x00"), status: 400, message: "That request could not be read"},
		{name: "empty", form: login("", ""), status: 400, message: "Enter your username and password."},
		{name: "bad percent-encoding", rawBody: "authRequestID=" + id + "&username=%zz&password=x", status: 400},
		{name: "NUL in request id", form: url.Values{"authRequestID": {id + "\x00"}, "username": {"alice"}, "password": {"x"}}, status: 400},
		{name: "huge request id", form: url.Values{"authRequestID": {strings.Repeat("x", 5000)}, "username": {"alice"}, "password": {"x"}}, status: 400},
		{name: "repeated fields", rawBody: "authRequestID=" + id + "&username=alice&username=bob&password=x&password=y", status: 401},
	} {
		body := tc.rawBody
		if tc.form != nil {
			body = tc.form.Encode()
		}
		p, err := do(b.HTTP, http.MethodPost, s.URL+"/login/password", strings.NewReader(body), nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if p.Status != tc.status || !strings.Contains(p.Body, tc.message) {
			t.Errorf("%s: want %d %q, got %s", tc.name, tc.status, tc.message, p)
		}
	}

	// The code form.
	s2, tw, _ := codeServer(t, testkit.ServerOptions{})
	s2.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	f := s2.NewRP(t, testkit.ClientOptions{}).Start(s2.NewBrowser(t), nil).Password("alice", "alice-password")
	for _, code := range []string{"12ab56", "１２３４５６", "123456\x00", "-12345", "1e5", strings.Repeat("1", 5000), "' OR 1=1 --", "\xff\xfe"} {
		p := postForm(t, f.B, s2.URL, "/login/code", url.Values{"authRequestID": {f.Page.Field("authRequestID")}, "code": {code}}, nil)
		message := "digits only"
		if !storage.ValidText(code) {
			message = "That request could not be read"
		}
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, message) {
			t.Errorf("code %.20q: %s", code, p)
		}
	}
	f.SubmitCode(tw.LastCode(alicePhone)).Code() // none of it counted as an attempt

	// Headers, query strings and protocol endpoints.
	c := &http.Client{Transport: s.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(extra url.Values) string {
		q := url.Values{"client_id": {app.ID}, "redirect_uri": {app.RedirectURI}, "response_type": {"code"}, "scope": {"openid"},
			"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		for k, v := range extra {
			q[k] = v
		}
		return s.URL + "/authorize?" + q.Encode()
	}
	for _, tc := range []struct {
		name, method, url, body string
		header                  http.Header
		status                  int
	}{
		{name: "100 KB header", method: "GET", url: s.URL + "/login?authRequestID=" + id, header: http.Header{"X-Junk": {strings.Repeat("a", 100<<10)}}, status: http.StatusRequestHeaderFieldsTooLarge},
		{name: "2 MB token request", method: "POST", url: s.URL + "/oauth/token", body: "grant_type=authorization_code&code=" + strings.Repeat("a", 2<<20), status: http.StatusRequestEntityTooLarge},
		{name: "huge state", method: "GET", url: authorize(url.Values{"state": {strings.Repeat("s", 5000)}}), status: http.StatusFound},
		{name: "huge nonce", method: "GET", url: authorize(url.Values{"nonce": {strings.Repeat("n", 5000)}}), status: http.StatusFound},
		{name: "100 KB state", method: "GET", url: authorize(url.Values{"state": {strings.Repeat("s", 100<<10)}}), status: http.StatusRequestHeaderFieldsTooLarge},
		{name: "NUL in state", method: "GET", url: authorize(url.Values{"state": {"a\x00b"}}), status: http.StatusBadRequest},
		{name: "invalid UTF-8 login_hint", method: "GET", url: authorize(url.Values{"login_hint": {"\xff\xfe"}}), status: http.StatusBadRequest},
		{name: "duplicate client_id", method: "GET", url: authorize(url.Values{"client_id": {app.ID, "other"}}), status: http.StatusBadRequest},
		{name: "SQL client_id", method: "GET", url: authorize(url.Values{"client_id": {"' OR 1=1 --"}}), status: http.StatusBadRequest},
		{name: "2 MB JSON to the admin API", method: "POST", url: s.URL + "/admin/api/v1/users", body: `{"username":"` + strings.Repeat("a", 2<<20) + `"}`,
			header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer x"}}, status: http.StatusUnauthorized},
	} {
		p, err := do(c, tc.method, tc.url, strings.NewReader(tc.body), tc.header)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if p.Status != tc.status && !(p.Status >= 400 && p.Status < 500 && tc.status >= 400) {
			t.Errorf("%s: want %d, got %s", tc.name, tc.status, p)
		}
		if p.Status >= 500 {
			t.Errorf("%s: server error %s", tc.name, p)
		}
	}
	noServerErrors(t, s)
	noServerErrors(t, s2)
}

// A full SMS sign-in, token exchange and refresh leaves no secret where it
// does not belong: the code in no page, URL, log line or audit row; the
// password in no page; tokens only in the token responses.
func TestSecurityNoSecretInPagesURLsOrLogs(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{Configure: func(c *configT) { c.Log.Level = "debug" }})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-secret-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	pages := record(b)
	f := app.Start(b, nil).Password("alice", "alice-secret-password")
	sms := tw.LastCode(alicePhone)
	f.SubmitCode(wrongCode(sms))
	authCode := f.SubmitCode(sms).Code()

	ctx := context.Background()
	protocol := &recorder{base: s.Transport()}
	party, err := rp.NewRelyingPartyOIDC(ctx, s.URL, app.ID, app.Secret, app.RedirectURI,
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeOfflineAccess}, rp.WithHTTPClient(&http.Client{Transport: protocol}),
		rp.WithAuthStyle(oauth2.AuthStyleInHeader)) // the client's registered client_secret_basic
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, authCode, party, rp.WithCodeVerifier(f.Verifier))
	if err != nil {
		t.Fatal(err)
	}
	refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.Userinfo[*oidc.UserInfo](ctx, refreshed.AccessToken, "Bearer", tokens.IDTokenClaims.Subject, party); err != nil {
		t.Fatal(err)
	}

	events, err := s.App.Store.AuditEvents(ctx, storage.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var audit strings.Builder
	for _, e := range events {
		fmt.Fprintf(&audit, "%+v\n", e)
	}
	tokenSecrets := map[string]string{"access token": tokens.AccessToken, "refresh token": tokens.RefreshToken, "id token": tokens.IDToken,
		"refreshed access token": refreshed.AccessToken, "refreshed refresh token": refreshed.RefreshToken, "refreshed id token": refreshed.IDToken}
	never := map[string]string{"password": "alice-secret-password", "sms code": sms, "client secret": app.Secret}
	for k, v := range tokenSecrets {
		never[k] = v
	}
	leak := func(where, text string, secrets map[string]string) {
		t.Helper()
		for name, secret := range secrets {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("the %s holds the %s", where, name)
			}
		}
	}
	leak("log", s.Log.String(), never)
	leak("audit table", audit.String(), never)
	leak("log", s.Log.String(), map[string]string{"authorization code": authCode})
	leak("audit table", audit.String(), map[string]string{"authorization code": authCode})
	for _, e := range pages.exchanges() {
		leak("page "+e.URL, e.Body, never)
		if !strings.Contains(e.Location, authCode) { // a redirect's body repeats its Location
			leak("page "+e.URL, e.Body, map[string]string{"authorization code": authCode})
		}
		leak("URL "+e.URL, e.URL+" "+e.Location, never)
		if e.Location != "" && strings.Contains(e.Location, authCode) && !strings.HasPrefix(e.Location, app.RedirectURI+"?") {
			t.Errorf("the authorization code went to %s", e.Location)
		}
	}
	sawTokens := false
	for _, e := range protocol.exchanges() {
		inTokenResponse := strings.HasSuffix(strings.SplitN(e.URL, "?", 2)[0], "/oauth/token")
		secrets := map[string]string{"password": "alice-secret-password", "sms code": sms, "client secret": app.Secret}
		if !inTokenResponse {
			for k, v := range tokenSecrets {
				secrets[k] = v
			}
		} else {
			sawTokens = true
		}
		leak("response of "+e.URL, e.Body+" "+e.Location, secrets)
		leak("URL", e.URL, never)
	}
	if !sawTokens {
		t.Fatal("recorded no token response")
	}
}

// FuzzAuthorizeQuery: whatever the query of /authorize, the answer is a
// redirect or a 4xx, never a 5xx (a recovered panic is a 500).
func FuzzAuthorizeQuery(f *testing.F) {
	s := testkit.NewServer(f, testkit.ServerOptions{})
	app := s.NewRP(f, testkit.ClientOptions{})
	spa := s.NewRP(f, testkit.ClientOptions{Public: true})
	handler, err := s.App.Handler()
	if err != nil {
		f.Fatal(err)
	}
	good := url.Values{"client_id": {app.ID}, "redirect_uri": {app.RedirectURI}, "response_type": {"code"}, "scope": {"openid profile"},
		"state": {"s"}, "nonce": {"n"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
	f.Add(good.Encode())
	for _, edit := range []url.Values{
		{"client_id": {spa.ID}}, {"code_challenge_method": {"plain"}}, {"response_type": {"token id_token"}}, {"response_mode": {"form_post"}},
		{"prompt": {"none login consent select_account"}}, {"max_age": {"-1"}}, {"max_age": {"99999999999999999999"}},
		{"ui_locales": {"xx-!!"}}, {"acr_values": {"urn:twofold:acr:2fa"}}, {"request": {"eyJhbGciOiJub25lIn0.e30."}},
		{"request_uri": {"https://evil.example/r"}}, {"id_token_hint": {"not.a.jwt"}}, {"scope": {""}}, {"redirect_uri": {"//evil.com"}},
		{"claims": {`{"userinfo":{"email":null}}`}}, {"claims": {`{"`}}, {"display": {"popup"}}, {"login_hint": {"\x00\xff"}},
	} {
		q := url.Values{}
		for k, v := range good {
			q[k] = v
		}
		for k, v := range edit {
			q[k] = v
		}
		f.Add(q.Encode())
	}
	for _, raw := range []string{"", "%", "%zz", "a=%00", "client_id", "client_id=&client_id=", ";;;", "scope=openid&&&=&", strings.Repeat("a=b&", 500)} {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest(http.MethodGet, "/authorize", nil)
		req.URL.RawQuery = raw
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("/authorize?%q: status %d: %s", raw, rec.Code, rec.Body)
		}
	})
}
