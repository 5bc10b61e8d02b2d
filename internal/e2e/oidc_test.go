package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/client/rs"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
)

func TestCodeFlowWithPKCE(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		userID := s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		tokens := app.Login(s.NewBrowser(t), "alice", "alice-password")

		claims := tokens.IDTokenClaims
		if claims.Subject != userID {
			t.Errorf("sub = %q, want %q", claims.Subject, userID)
		}
		if !slices.Equal(claims.AuthenticationMethodsReferences, []string{"pwd"}) {
			t.Errorf("amr = %v", claims.AuthenticationMethodsReferences)
		}
		if claims.AuthTime == 0 || claims.PreferredUsername != "alice" || claims.Email != "alice@example.com" {
			t.Errorf("claims missing auth_time/profile/email: %+v", claims)
		}
		if tokens.RefreshToken == "" {
			t.Error("offline_access granted no refresh token")
		}
		info, err := rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, "Bearer", userID, app.Party)
		if err != nil || info.PreferredUsername != "alice" {
			t.Fatalf("userinfo = %+v, %v", info, err)
		}
		res := resourceServer(t, s, app)
		intro, err := rs.Introspect[*oidc.IntrospectionResponse](context.Background(), res, tokens.AccessToken)
		if err != nil || !intro.Active || intro.Subject != userID || intro.ClientID != app.ID {
			t.Fatalf("introspection = %+v, %v", intro, err)
		}
	})
}

func resourceServer(t *testing.T, s *testkit.Server, app *testkit.RP) rs.ResourceServer {
	t.Helper()
	res, err := rs.NewResourceServerClientCredentials(context.Background(), s.URL, app.ID, app.Secret,
		rs.WithClient(&http.Client{Transport: s.Transport()}))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRefreshRotationAndReuse(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		first := app.Login(s.NewBrowser(t), "alice", "alice-password")
		ctx := context.Background()

		second, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, first.RefreshToken, "", "")
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
			t.Fatal("refresh did not rotate the refresh token")
		}
		// Presenting the rotated token again, past the reuse grace, is
		// reuse: the whole family dies.
		s.Clock.Advance(3 * time.Second)
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, first.RefreshToken, "", ""); err == nil {
			t.Fatal("reused refresh token accepted")
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, second.RefreshToken, "", ""); err == nil {
			t.Fatal("refresh token of a revoked family accepted")
		}
		if active(t, s, app, second.AccessToken) {
			t.Fatal("access token of a revoked family still active")
		}
	})
}

func active(t *testing.T, s *testkit.Server, app *testkit.RP, token string) bool {
	t.Helper()
	resp, err := rs.Introspect[*oidc.IntrospectionResponse](context.Background(), resourceServer(t, s, app), token)
	if err != nil {
		t.Fatalf("introspect: %v", err)
	}
	return resp.Active
}

func TestClientCredentials(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		machine := s.NewRP(t, testkit.ClientOptions{GrantTypes: []string{"client_credentials"}})
		tok, err := rp.ClientCredentials(context.Background(), machine.Party, nil)
		if err != nil || tok.AccessToken == "" {
			t.Fatalf("client_credentials: %v", err)
		}
		if !active(t, s, machine, tok.AccessToken) {
			t.Fatal("machine token not active")
		}
		// A client without the grant is refused: it authenticated, so the
		// answer is unauthorized_client (400), not invalid_client (401).
		web := s.NewRP(t, testkit.ClientOptions{})
		if _, err := rp.ClientCredentials(context.Background(), web.Party, nil); err == nil {
			t.Fatal("client_credentials allowed for a client without the grant")
		}
		status, oauthErr := tokenError(t, s, web.ID, web.Secret, url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusBadRequest || oauthErr != "unauthorized_client" {
			t.Errorf("client_credentials without the grant: %d %s, want 400 unauthorized_client", status, oauthErr)
		}
		// A wrong secret stays invalid_client.
		status, oauthErr = tokenError(t, s, machine.ID, "wrong-secret", url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusUnauthorized || oauthErr != "invalid_client" {
			t.Errorf("client_credentials with a wrong secret: %d %s, want 401 invalid_client", status, oauthErr)
		}
	})
}

// tokenError posts form to the token endpoint with HTTP Basic client
// authentication and returns the status and the OAuth error code.
func tokenError(t *testing.T, s *testkit.Server, id, secret string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := (&http.Client{Transport: s.Transport()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error
}

func TestRevocation(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		tokens := app.Login(s.NewBrowser(t), "alice", "alice-password")
		ctx := context.Background()
		if err := rp.RevokeToken(ctx, app.Party, tokens.AccessToken, "access_token"); err != nil {
			t.Fatalf("revoke access token: %v", err)
		}
		if active(t, s, app, tokens.AccessToken) {
			t.Fatal("revoked access token still active")
		}
		if _, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, "Bearer", tokens.IDTokenClaims.Subject, app.Party); err == nil {
			t.Fatal("userinfo accepted a revoked access token")
		}
		if err := rp.RevokeToken(ctx, app.Party, tokens.RefreshToken, "refresh_token"); err != nil {
			t.Fatalf("revoke refresh token: %v", err)
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, tokens.RefreshToken, "", ""); err == nil {
			t.Fatal("revoked refresh token accepted")
		}
	})
}

func TestSSOAcrossClientsPromptLoginAndEndSession(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		wiki := s.NewRP(t, testkit.ClientOptions{Name: "Wiki"})
		mail := s.NewRP(t, testkit.ClientOptions{Name: "Mail", RedirectURIs: []string{"https://mail.example/cb"},
			PostLogoutRedirectURIs: []string{"https://mail.example/bye"}})
		b := s.NewBrowser(t)
		first := wiki.Login(b, "alice", "alice-password")

		// A second client signs the same browser in without a prompt.
		f := mail.Start(b, nil)
		tokens, err := f.Exchange(f.Code())
		if err != nil {
			t.Fatal(err)
		}
		if tokens.IDTokenClaims.AuthTime != first.IDTokenClaims.AuthTime {
			t.Errorf("SSO auth_time = %v, want the original %v", tokens.IDTokenClaims.AuthTime, first.IDTokenClaims.AuthTime)
		}
		// prompt=login and max_age=0 ask for the password again.
		for _, extra := range []testkit.AuthParams{{"prompt": "login"}, {"max_age": "0"}} {
			s.Clock.Advance(2 * time.Second)
			f := mail.Start(b, extra)
			if f.Page.Field("authRequestID") == "" {
				t.Fatalf("%v: no password page: %s", extra, f.Page)
			}
			f.Password("alice", "alice-password").Code()
		}
		// prompt=none with a session is answered at once.
		mail.Start(b, testkit.AuthParams{"prompt": "none"}).Code()

		// end_session ends the SSO session: the next sign-in asks again.
		end := b.Get("/end_session?" + url.Values{"id_token_hint": {tokens.IDToken},
			"post_logout_redirect_uri": {"https://mail.example/bye"}, "state": {"x"}}.Encode())
		if end.Status != http.StatusFound || end.Location != "https://mail.example/bye?state=x" {
			t.Fatalf("end_session: %s", end)
		}
		f = wiki.Start(b, nil)
		if f.Page.Field("authRequestID") == "" {
			t.Fatalf("session survived end_session: %s", f.Page)
		}
		if q := wiki.Start(s.NewBrowser(t), testkit.AuthParams{"prompt": "none"}).Callback(); q.Get("error") != "login_required" {
			t.Fatalf("prompt=none without a session: %v", q)
		}
	})
}

func TestWrongPasswordAndUnknownUserLookAlike(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	wrong := app.Start(b, nil).Password("alice", "nope").Page
	unknown := app.Start(b, nil).Password("mallory", "nope").Page
	for _, p := range []*testkit.Page{wrong, unknown} {
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "Wrong username or password.") {
			t.Fatalf("failed sign-in page: %s", p)
		}
	}
}

func TestWrongRedirectURIRefusedWithoutRedirect(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	for _, uri := range []string{"https://evil.example/callback", "https://rp.example/callback/../evil", "https://rp.example/callback?x=1", "https://rp.example/Callback"} {
		p := b.Get("/authorize?" + url.Values{"client_id": {app.ID}, "redirect_uri": {uri}, "response_type": {"code"},
			"scope": {"openid"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode())
		if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, "an address it has not registered") {
			t.Errorf("redirect_uri %q: %s", uri, p)
		}
	}
	p := b.Get("/authorize?" + url.Values{"client_id": {"no-such-app"}, "redirect_uri": {app.RedirectURI}, "response_type": {"code"},
		"scope": {"openid"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode())
	if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, "not registered with this sign-in service") {
		t.Errorf("unknown client: %s", p)
	}
}

func TestPKCERules(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	spa := s.NewRP(t, testkit.ClientOptions{Public: true})
	b := s.NewBrowser(t)
	base := url.Values{"client_id": {spa.ID}, "redirect_uri": {spa.RedirectURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
	for name, extra := range map[string]url.Values{
		"missing":                      {},
		"plain":                        {"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"plain"}},
		"no method (plain by default)": {"code_challenge": {strings.Repeat("a", 43)}},
		"bad challenge":                {"code_challenge": {"short"}, "code_challenge_method": {"S256"}},
	} {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for k, v := range extra {
			q[k] = v
		}
		p := b.Get("/authorize?" + q.Encode())
		loc, _ := url.Parse(p.Location)
		if p.Status != http.StatusFound || loc == nil || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("%s: want a redirect with invalid_request, got %s", name, p)
		}
	}
	// A malformed verifier is refused before the code is looked up, and
	// spends nothing: the right one after it works.
	s.CreateUser(t, "alice", "alice-password")
	f := spa.Start(b, nil).Password("alice", "alice-password")
	code := f.Code()
	good := f.Verifier
	f.Verifier = "too-short"
	if _, err := f.Exchange(code); err == nil {
		t.Fatal("malformed code_verifier accepted")
	}
	f.Verifier = good
	if _, err := f.Exchange(code); err != nil {
		t.Fatalf("right verifier after a malformed one: %v", err)
	}
	// A well-formed wrong verifier spends the code (whoever sends it holds
	// an intercepted code): the right one after it fails too.
	g := spa.Start(b, nil) // signed in: straight back with a code
	code, good = g.Code(), g.Verifier
	g.Verifier = strings.Repeat("b", 43)
	if _, err := g.Exchange(code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("wrong code_verifier: %v, want invalid_grant", err)
	}
	g.Verifier = good
	if _, err := g.Exchange(code); err == nil {
		t.Fatal("the code still worked after a wrong code_verifier")
	}
}

func TestCodeReplayRevokesTokensAndWrongSecretSpendsNothing(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		code := f.Code()

		// Wrong client secret: refused with 401 and WWW-Authenticate, code intact.
		req, _ := http.NewRequest("POST", s.URL+"/oauth/token", strings.NewReader(url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {app.RedirectURI},
			"code_verifier": {f.Verifier}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(app.ID, "wrong")
		resp, err := (&http.Client{Transport: s.Transport()}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("wrong secret: status %d, body %v, WWW-Authenticate %q", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
		}
		tokens, err := f.Exchange(code)
		if err != nil {
			t.Fatalf("exchange after a wrong secret: %v", err)
		}
		if _, err := f.Exchange(code); err == nil {
			t.Fatal("replayed code accepted")
		}
		if active(t, s, app, tokens.AccessToken) {
			t.Fatal("tokens from a replayed code are still active")
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), app.Party, tokens.RefreshToken, "", ""); err == nil {
			t.Fatal("refresh token from a replayed code still works")
		}
	})
}

func TestCodeExpires(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	code := f.Code()
	s.Clock.Advance(61 * time.Second)
	if _, err := f.Exchange(code); err == nil {
		t.Fatal("code accepted after 60 s")
	}
}

func TestCallbackOnlyInTheBrowserThatSignedIn(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	victim, attacker := s.NewBrowser(t), s.NewBrowser(t)
	f := app.Start(victim, nil)
	id := f.Page.Field("authRequestID")
	// The attacker cannot use the victim's sign-in page or its callback.
	if p := attacker.Get("/login?authRequestID=" + url.QueryEscape(id)); p.Status != http.StatusBadRequest {
		t.Fatalf("login page in another browser: %s", p)
	}
	f.Password("alice", "alice-password")
	if p := attacker.Get("/authorize/callback?id=" + url.QueryEscape(id)); p.Status != http.StatusBadRequest || p.Location != "" {
		t.Fatalf("callback in another browser: %s", p)
	}
}

func TestJWTAccessTokens(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{AccessTokenFormat: "jwt"})
	tokens := app.Login(s.NewBrowser(t), "alice", "alice-password")
	if strings.Count(tokens.AccessToken, ".") != 2 {
		t.Fatalf("access token is not a JWT: %q", tokens.AccessToken)
	}
	claims, err := rp.VerifyTokens[*oidc.IDTokenClaims](context.Background(), tokens.AccessToken, tokens.IDToken, app.Party.IDTokenVerifier())
	if err != nil || claims.Subject == "" {
		t.Fatalf("verify: %v", err)
	}
	if !active(t, s, app, tokens.AccessToken) {
		t.Fatal("JWT access token not active")
	}
	rp.RevokeToken(context.Background(), app.Party, tokens.AccessToken, "access_token")
	if active(t, s, app, tokens.AccessToken) {
		t.Fatal("revoked JWT access token still active")
	}
}

func TestRestartMidFlowLosesNothing(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		b := s.NewBrowser(t)
		f := app.Start(b, nil)
		s.Restart()
		f.Password("alice", "alice-password")
		tokens, err := f.Exchange(f.Code())
		if err != nil {
			t.Fatalf("flow across a restart: %v", err)
		}
		s.Restart()
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), app.Party, tokens.RefreshToken, "", ""); err != nil {
			t.Fatalf("refresh after restart: %v", err)
		}
		app.Start(b, nil).Code() // the SSO session survived too
	})
}

func TestMalformedRequestsGetClearErrors(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	c := &http.Client{Transport: s.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/authorize?%zz", ""},
		{"GET", "/end_session?%zz", ""},
		{"POST", "/oauth/token", "grant_type=%zz"},
		{"POST", "/oauth/token", strings.Repeat("a=b&", 40000)},
		{"GET", "/authorize/callback?id=nope", ""},
		{"GET", "/login?authRequestID=" + strings.Repeat("x", 500), ""},
		{"POST", "/oauth/introspect", "token=x"},
		{"GET", "/userinfo", ""},
	} {
		req, _ := http.NewRequest(tc.method, s.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s %.60s: status %d, want a 4xx", tc.method, tc.path, resp.StatusCode)
		}
	}
}

// Discovery advertises only what twofold serves, and is cacheable: an
// unchanged document answers 304 to its ETag.
func TestDiscoveryAdvertisesWhatIsServed(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	b := s.NewBrowser(t)
	p := b.Get("/.well-known/openid-configuration")
	var doc struct {
		Issuer        string   `json:"issuer"`
		ResponseTypes []string `json:"response_types_supported"`
		GrantTypes    []string `json:"grant_types_supported"`
		Device        string   `json:"device_authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		Algorithms    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal([]byte(p.Body), &doc); err != nil {
		t.Fatalf("discovery: %v: %s", err, p)
	}
	if doc.Issuer != s.URL || doc.Token != s.URL+"/oauth/token" || !slices.Equal(doc.Algorithms, []string{"RS256", "ES256"}) {
		t.Errorf("discovery = %+v", doc)
	}
	if !slices.Equal(doc.ResponseTypes, []string{"code"}) || doc.Device != "" {
		t.Errorf("advertises response types %v, device endpoint %q", doc.ResponseTypes, doc.Device)
	}
	if !slices.Equal(doc.GrantTypes, []string{"authorization_code", "refresh_token", "client_credentials"}) {
		t.Errorf("grant types = %v", doc.GrantTypes)
	}
	etag := p.Header.Get("ETag")
	if etag == "" || !strings.Contains(p.Header.Get("Cache-Control"), "max-age") || p.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("headers = %v", p.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/.well-known/openid-configuration", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err := b.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: status %d, want 304", resp.StatusCode)
	}
}

// The demo's callback, reloaded after the sign-in finished, explains
// itself in a page instead of the rp library's plain-text 401.
func TestDemoCallbackReloaded(t *testing.T) {
	s := devServer(t)
	p := s.NewBrowser(t).Get("/demo/callback?code=used&state=gone")
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "already completed") || !strings.Contains(p.Body, `href="/demo/login"`) {
		t.Fatalf("reloaded callback: %s", p)
	}
}

// The demo is a relying party like any other: it reads the issuer's
// discovery over HTTP, through the server's own listener (the access log
// has the request), not by calling the handler in process.
func TestDemoTalksHTTPToTheIssuer(t *testing.T) {
	s := devServer(t)
	p := s.NewBrowser(t).Get("/demo/login")
	if loc := strings.TrimPrefix(p.Location, s.URL); !strings.HasPrefix(loc, "/authorize?") || !strings.Contains(loc, "client_id=demo") {
		t.Fatalf("/demo/login: %s", p)
	}
	if !strings.Contains(s.Log.String(), "path=/.well-known/openid-configuration status=200") {
		t.Fatalf("no discovery request reached the listener:\n%s", s.Log)
	}
}
