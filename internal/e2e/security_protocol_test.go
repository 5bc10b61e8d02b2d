package e2e

// The security suite, part three: the protocol surface as a hostile caller
// sees it: text no database column can hold, cross-origin reads,
// repeated parameters, client authentication methods, methods a route does
// not serve, and other clients' tokens. Parts one and two are
// security_test.go and security_web_test.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/keyring"
)

// oauthError is the error code of a JSON OAuth error body ("" if none).
func oauthError(p *testkit.Page) string {
	var body struct {
		Error string `json:"error"`
	}
	json.Unmarshal([]byte(p.Body), &body)
	return body.Error
}

// noErrorLogs fails when the server logged at level ERROR: input a caller
// chooses must never look like a fault of ours.
func noErrorLogs(t *testing.T, s *testkit.Server) {
	t.Helper()
	if lines := grepLines(s.Log.String(), "level=ERROR"); lines != "" {
		t.Errorf("the server logged errors:\n%s", lines)
	}
}

// Invalid UTF-8 and NUL, anywhere a caller can put text (parameters of
// every protocol endpoint, client credentials, sign-in forms and links,
// the admin API's paths, queries and JSON), are refused as the caller's
// mistake before they reach the database: PostgreSQL would refuse them
// with an error, which used to come back as a server_error and an ERROR
// log line anyone could trigger.
func TestSecurityInvalidTextRefusedBeforeStorage(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		b := s.NewBrowser(t)
		id := app.Start(b, nil).Page.Field("authRequestID")
		c := &http.Client{Transport: s.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		authorize := func(name, value string) string {
			q := url.Values{"client_id": {app.ID}, "redirect_uri": {app.RedirectURI}, "response_type": {"code"}, "scope": {"openid"},
				"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}, name: {value}}
			return s.URL + "/authorize?" + q.Encode()
		}
		post := func(path string, form url.Values, h http.Header) *testkit.Page {
			return send(t, c, http.MethodPost, s.URL+path, strings.NewReader(form.Encode()), h)
		}
		api, _ := bootstrapAdmin(t, s)
		for _, bad := range []string{"\xff", "\x00"} {
			name := func(what string) string { return fmt.Sprintf("%s %q", what, bad) }
			for _, param := range []string{"state", "nonce", "login_hint", "acr_values", "ui_locales", "response_mode", "prompt", "max_age"} {
				p := send(t, c, http.MethodGet, authorize(param, "a"+bad), nil, nil)
				if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, "parameter "+param+" is not UTF-8 text") {
					t.Errorf("%s: %s", name("/authorize "+param), p)
				}
			}
			for what, p := range map[string]*testkit.Page{
				"callback id":                 send(t, b.HTTP, http.MethodGet, s.URL+"/authorize/callback?id="+url.QueryEscape(bad), nil, nil),
				"login page link":             send(t, b.HTTP, http.MethodGet, s.URL+"/login?authRequestID="+url.QueryEscape(id+bad), nil, nil),
				"code page link":              send(t, b.HTTP, http.MethodGet, s.URL+"/login/code?authRequestID="+url.QueryEscape(bad), nil, nil),
				"username":                    postForm(t, b, s.URL, "/login/password", url.Values{"authRequestID": {id}, "username": {"alice" + bad}, "password": {"x"}}, nil),
				"password":                    postForm(t, b, s.URL, "/login/password", url.Values{"authRequestID": {id}, "username": {"alice"}, "password": {"alice-password" + bad}}, nil),
				"request id in the form":      postForm(t, b, s.URL, "/login/password", url.Values{"authRequestID": {id + bad}, "username": {"alice"}, "password": {"x"}}, nil),
				"end_session client_id":       send(t, b.HTTP, http.MethodGet, s.URL+"/end_session?client_id="+url.QueryEscape(bad), nil, nil),
				"code":                        post("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"c" + bad}}, basicAuth(app.ID, app.Secret)),
				"refresh token":               post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r" + bad}}, basicAuth(app.ID, app.Secret)),
				"client_id in the form":       post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"c" + bad}, "client_secret": {"x"}}, nil),
				"client_id in Basic":          post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, basicAuth("c"+bad, "x")),
				"introspected token":          post("/oauth/introspect", url.Values{"token": {"t" + bad}}, basicAuth(app.ID, app.Secret)),
				"introspecting client":        post("/oauth/introspect", url.Values{"token": {"t"}}, basicAuth("c"+bad, "x")),
				"revoked token":               post("/revoke", url.Values{"token": {"t" + bad}}, basicAuth(app.ID, app.Secret)),
				"revoking client in Basic":    post("/revoke", url.Values{"token": {"t"}}, basicAuth("c"+bad, "x")),
				"revoking client in the form": post("/revoke", url.Values{"token": {"t"}, "client_id": {"c" + bad}, "client_secret": {"x"}}, nil),
			} {
				if p.Status != http.StatusBadRequest {
					t.Errorf("%s: want 400, got %s", name(what), p)
				}
				if strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") && oauthError(p) != "invalid_request" {
					t.Errorf("%s: error %q, want invalid_request", name(what), oauthError(p))
				}
			}
			for _, path := range []string{"/users/" + url.PathEscape("u"+bad), "/clients/" + url.PathEscape("c"+bad), "/policies/users/" + url.PathEscape("u"+bad)} {
				api.wantError(http.StatusBadRequest, admin.CodeInvalidArgument, "", "GET", path, nil)
			}
			api.wantError(http.StatusBadRequest, admin.CodeInvalidArgument, "type", "GET", "/audit?type="+url.QueryEscape(bad), nil)
			api.wantError(http.StatusBadRequest, admin.CodeInvalidArgument, "user", "GET", "/sessions?user="+url.QueryEscape(bad), nil)
		}
		api.wantError(http.StatusBadRequest, admin.CodeInvalidArgument, "username", "POST", "/users", `{"username": "eve\u0000", "password": "eve-password"}`)
		api.wantError(http.StatusBadRequest, admin.CodeInvalidArgument, "redirect_uris", "POST", "/clients", `{"name": "x", "redirect_uris": ["https://x.example/\u0000"]}`)
		api.wantError(http.StatusBadRequest, admin.CodeInvalidArgument, "", "POST", "/users", "{\"username\": \"eve\xff\", \"password\": \"eve-password\"}")

		// A browser's User-Agent may hold any byte above 0x7f; it is kept
		// with the session, cut to 256 bytes, and must not fail the sign-in.
		for _, ua := range []string{"Mozilla/5.0 \xff\xfe", "x" + strings.Repeat("é", 200)} {
			f := app.Start(s.NewBrowser(t), nil)
			f.B.HTTP.Transport = headerTransport{base: f.B.HTTP.Transport, header: http.Header{"User-Agent": {ua}}}
			f.Password("alice", "alice-password").Code()
		}
		noServerErrors(t, s)
		noErrorLogs(t, s)
	})
}

// A parameter given twice at /authorize or the token endpoint is refused
// (RFC 6749 §3.1): zitadel/oidc read the last one, so whatever checked the
// first (a proxy, a WAF, the client's own logs) saw another request.
func TestSecurityRepeatedParametersRefused(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{RedirectURIs: []string{"https://rp.example/callback", "https://rp.example/other"}})
	other := s.NewRP(t, testkit.ClientOptions{})
	c := &http.Client{Transport: s.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := url.Values{"client_id": {app.ID}, "redirect_uri": {app.RedirectURI}, "response_type": {"code"}, "scope": {"openid"},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}, "state": {"s"}}
	for name, twice := range map[string][]string{
		"redirect_uri": {app.RedirectURI, "https://rp.example/other"},
		"client_id":    {other.ID, app.ID},
		"state":        {"first", "second"},
		"scope":        {"openid", "openid profile"},
	} {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q[name] = twice
		p := send(t, c, http.MethodGet, s.URL+"/authorize?"+q.Encode(), nil, nil)
		if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, "parameter "+name+" is given more than once") {
			t.Errorf("/authorize with %s twice: %s", name, p)
		}
	}
	// Once in the query and once in the body of a POST is twice too.
	p := send(t, c, http.MethodPost, s.URL+"/authorize?state=q", strings.NewReader(base.Encode()), nil)
	if p.Status != http.StatusBadRequest || p.Location != "" {
		t.Errorf("POST /authorize with state in the query and the body: %s", p)
	}

	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	code := f.Code()
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {app.RedirectURI},
		"code_verifier": {f.Verifier}, "client_id": {app.ID}, "client_secret": {app.Secret}}
	for name, twice := range map[string][]string{
		"redirect_uri":  {"https://rp.example/other", app.RedirectURI},
		"client_id":     {other.ID, app.ID},
		"code":          {"x", code},
		"code_verifier": {strings.Repeat("b", 43), f.Verifier},
	} {
		form := url.Values{}
		for k, v := range exchange {
			form[k] = v
		}
		form[name] = twice
		p := send(t, c, http.MethodPost, s.URL+"/oauth/token", strings.NewReader(form.Encode()), nil)
		if p.Status != http.StatusBadRequest || oauthError(p) != "invalid_request" || !strings.Contains(p.Body, "given more than once") {
			t.Errorf("token request with %s twice: %s", name, p)
		}
	}
	// None of them spent the code.
	if _, err := f.Exchange(code); err != nil {
		t.Fatalf("the code after refused requests: %v", err)
	}
	noServerErrors(t, s)
}

// A method a route does not serve gets 405 with Allow, at the protocol
// endpoints, the sign-in pages and the admin API alike; an unknown path
// stays 404. (zitadel/oidc's router took every method: a PUT to the token
// endpoint got 400, a DELETE of /authorize a sign-in.)
func TestSecurityMethodsNotServedAre405(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	api, _ := bootstrapAdmin(t, s)
	c := &http.Client{Transport: s.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := http.Header{"Accept": {"text/html,application/xhtml+xml,*/*;q=0.8"}}
	for _, tc := range []struct {
		method, path string
		header       http.Header
		allow        string
		html         bool
	}{
		{method: "GET", path: "/oauth/token", allow: "OPTIONS, POST"},
		{method: "PUT", path: "/oauth/token", allow: "OPTIONS, POST"},
		{method: "DELETE", path: "/authorize", allow: "GET, HEAD, POST"},
		{method: "PUT", path: "/authorize/callback?id=x", allow: "GET, HEAD"},
		{method: "GET", path: "/revoke", allow: "OPTIONS, POST"},
		{method: "DELETE", path: "/userinfo", allow: "GET, HEAD, OPTIONS, POST"},
		{method: "POST", path: "/keys", allow: "GET, HEAD, OPTIONS"},
		{method: "POST", path: "/.well-known/openid-configuration", allow: "GET, HEAD, OPTIONS"},
		{method: "PATCH", path: "/end_session", allow: "GET, HEAD, POST"},
		{method: "OPTIONS", path: "/authorize", allow: "GET, HEAD, POST"},
		{method: "OPTIONS", path: "/login/password", allow: "POST"},
		{method: "PUT", path: "/login/password", allow: "POST"},
		{method: "GET", path: "/login/password", header: page, allow: "POST", html: true},
		{method: "DELETE", path: "/account", allow: "GET, HEAD"},
		{method: "POST", path: "/healthz", allow: "GET, HEAD"},
	} {
		p := send(t, c, tc.method, s.URL+tc.path, nil, tc.header)
		if p.Status != http.StatusMethodNotAllowed || p.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: want 405 with Allow %q, got Allow %q, %s", tc.method, tc.path, tc.allow, p.Header.Get("Allow"), p)
		}
		if html := strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"); html != tc.html {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, p.Header.Get("Content-Type"))
		}
	}
	r := api.do("PATCH", "/audit", nil)
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.Body, &body)
	if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" || body.Error.Code != admin.CodeMethodNotAllowed {
		t.Errorf("PATCH /admin/api/v1/audit: %d Allow %q %s", r.Status, r.Header.Get("Allow"), r.Body)
	}
	api.wantError(http.StatusNotFound, admin.CodeNotFound, "", "PATCH", "/nothing-here", nil)
	for _, path := range []string{"/oauth/nope", "/nope"} {
		if p := send(t, c, "PUT", s.URL+path, nil, nil); p.Status != http.StatusNotFound {
			t.Errorf("PUT %s: %s", path, p)
		}
	}
	noServerErrors(t, s)
}

// CORS: browser endpoints answer no cross-origin reads at all; the token,
// userinfo, introspection and revocation endpoints answer the origins of
// registered redirect URIs and no other; discovery and keys answer "*".
// None ever allows credentials (zitadel/oidc's default reflected any
// Origin with credentials everywhere, /authorize included, so any site
// could read the sign-in's answers with the user's cookies).
func TestSecurityCORS(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	spa := s.NewRP(t, testkit.ClientOptions{Public: true, RedirectURIs: []string{"https://spa.example:8443/cb"}})
	b := s.NewBrowser(t)
	tokens := app.Login(b, "alice", "alice-password")
	c := &http.Client{Transport: s.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := s.URL + "/authorize?" + url.Values{"client_id": {app.ID}, "redirect_uri": {app.RedirectURI}, "response_type": {"code"},
		"scope": {"openid"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode()
	type call struct {
		method, url string
		form        url.Values
		header      http.Header
	}
	with := func(h http.Header, origin string) http.Header {
		out := http.Header{"Origin": {origin}}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	ask := func(cl *http.Client, k call, origin string) *testkit.Page {
		var body *strings.Reader
		if k.form != nil {
			body = strings.NewReader(k.form.Encode())
		} else {
			body = strings.NewReader("")
		}
		return send(t, cl, k.method, k.url, body, with(k.header, origin))
	}
	preflight := func(path, method string) call {
		return call{method: http.MethodOptions, url: s.URL + path, header: http.Header{"Access-Control-Request-Method": {method},
			"Access-Control-Request-Headers": {"authorization, content-type"}}}
	}
	bearer := http.Header{"Authorization": {"Bearer " + tokens.AccessToken}}
	secret := basicAuth(app.ID, app.Secret)
	browserCalls := map[string]call{
		"authorize":           {method: "GET", url: authorize},
		"authorize callback":  {method: "GET", url: s.URL + "/authorize/callback?id=x"},
		"end_session":         {method: "GET", url: s.URL + "/end_session"},
		"login page":          {method: "GET", url: s.URL + "/login?authRequestID=x"},
		"account":             {method: "GET", url: s.URL + "/account"},
		"preflight authorize": preflight("/authorize", "POST"),
		"preflight password":  preflight("/login/password", "POST"),
		"preflight account":   preflight("/account/password", "POST"),
	}
	apiCalls := map[string]call{
		"token":                {method: "POST", url: s.URL + "/oauth/token", form: url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {spa.ID}}},
		"userinfo":             {method: "GET", url: s.URL + "/userinfo", header: bearer},
		"introspect":           {method: "POST", url: s.URL + "/oauth/introspect", form: url.Values{"token": {tokens.AccessToken}}, header: secret},
		"revoke":               {method: "POST", url: s.URL + "/revoke", form: url.Values{"token": {"unknown"}, "client_id": {spa.ID}}},
		"preflight token":      preflight("/oauth/token", "POST"),
		"preflight userinfo":   preflight("/userinfo", "GET"),
		"preflight introspect": preflight("/oauth/introspect", "POST"),
		"preflight revoke":     preflight("/revoke", "POST"),
	}
	noCredentials := func(what string, p *testkit.Page) {
		t.Helper()
		if v := p.Header.Get("Access-Control-Allow-Credentials"); v != "" {
			t.Errorf("%s: Access-Control-Allow-Credentials %q", what, v)
		}
	}
	for _, origin := range []string{"https://evil.example", "https://spa.example:8443", "https://rp.example", "null"} {
		for name, k := range browserCalls {
			p := ask(b.HTTP, k, origin)
			if v := p.Header.Get("Access-Control-Allow-Origin"); v != "" {
				t.Errorf("%s from %s: Access-Control-Allow-Origin %q on a browser endpoint", name, origin, v)
			}
			noCredentials(name+" from "+origin, p)
		}
	}
	for _, origin := range []string{"https://evil.example", "https://spa.example", "http://spa.example:8443", "https://spa.example:8443.evil.example", "null"} {
		for name, k := range apiCalls {
			p := ask(c, k, origin)
			if v := p.Header.Get("Access-Control-Allow-Origin"); v != "" {
				t.Errorf("%s from %s (not registered): Access-Control-Allow-Origin %q", name, origin, v)
			}
			noCredentials(name+" from "+origin, p)
		}
	}
	for _, origin := range []string{"https://spa.example:8443", "https://rp.example"} {
		for name, k := range apiCalls {
			p := ask(c, k, origin)
			if v := p.Header.Get("Access-Control-Allow-Origin"); v != origin || !slices.Contains(p.Header.Values("Vary"), "Origin") {
				t.Errorf("%s from %s: Access-Control-Allow-Origin %q, Vary %q; %s", name, origin, v, p.Header.Values("Vary"), p)
			}
			if k.method == http.MethodOptions && (p.Status != http.StatusNoContent || !strings.Contains(p.Header.Get("Access-Control-Allow-Methods"), k.header.Get("Access-Control-Request-Method")) ||
				!strings.Contains(p.Header.Get("Access-Control-Allow-Headers"), "Authorization")) {
				t.Errorf("%s from %s: %v", name, origin, p.Header)
			}
			noCredentials(name+" from "+origin, p)
		}
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
		for _, k := range []call{{method: "GET", url: s.URL + path}, preflight(path, "GET")} {
			p := ask(c, k, "https://anyone.example")
			if p.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s %s: Access-Control-Allow-Origin %q, want *", k.method, path, p.Header.Get("Access-Control-Allow-Origin"))
			}
			noCredentials(path, p)
		}
	}
	// Userinfo answers carry personal data: no cache keeps them.
	for _, h := range []http.Header{bearer, {"Authorization": {"Bearer nope"}}} {
		if p := send(t, c, "GET", s.URL+"/userinfo", nil, h); p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("userinfo (%d): Cache-Control %q", p.Status, p.Header.Get("Cache-Control"))
		}
	}
	noServerErrors(t, s)
}

// basicAuth is the Authorization header of client_secret_basic.
func basicAuth(id, secret string) http.Header {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return r.Header
}

// A client authenticates at the token endpoint with the method it is
// registered for and no other: zitadel/oidc took a secret wherever it
// arrived, so a client_secret_basic client's secret was accepted in the
// body (where proxies and logs keep bodies), and a public client passed
// with any secret at all. Introspection takes a client_secret_post
// client's credentials (it took Basic only, so such a client got 401).
func TestSecurityClientAuthenticationMethod(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	c := &http.Client{Transport: s.Transport()}
	machine := func(method string) *testkit.RP {
		return s.NewRP(t, testkit.ClientOptions{GrantTypes: []string{"client_credentials"}, AuthMethod: method})
	}
	basic, post := machine("client_secret_basic"), machine("client_secret_post")
	spa := s.NewRP(t, testkit.ClientOptions{Public: true})
	grant := url.Values{"grant_type": {"client_credentials"}}
	inBody := func(m *testkit.RP, form url.Values) url.Values {
		out := url.Values{"client_id": {m.ID}, "client_secret": {m.Secret}}
		for k, v := range form {
			out[k] = v
		}
		return out
	}
	token := func(form url.Values, h http.Header) *testkit.Page {
		return send(t, c, http.MethodPost, s.URL+"/oauth/token", strings.NewReader(form.Encode()), h)
	}
	for what, p := range map[string]*testkit.Page{
		"basic client, secret in the body":  token(inBody(basic, grant), nil),
		"post client, secret in Basic":      token(grant, basicAuth(post.ID, post.Secret)),
		"public client with a secret":       token(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {spa.ID}, "client_secret": {"anything"}}, nil),
		"public client with a Basic secret": token(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, basicAuth(spa.ID, "anything")),
	} {
		if p.Status != http.StatusUnauthorized || oauthError(p) != "invalid_client" || !strings.HasPrefix(p.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: want 401 invalid_client, got %s", what, p)
		}
	}
	var tokens = map[string]string{}
	for what, p := range map[string]*testkit.Page{
		"basic client, Basic": token(grant, basicAuth(basic.ID, basic.Secret)),
		"post client, body":   token(inBody(post, grant), nil),
	} {
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal([]byte(p.Body), &body); p.Status != http.StatusOK || body.AccessToken == "" {
			t.Fatalf("%s: %s", what, p)
		}
		tokens[what] = body.AccessToken
	}
	// Introspection and revocation take either secret method from a client
	// with a secret (libraries choose their own there), never none.
	introspect := func(form url.Values, h http.Header) *testkit.Page {
		return send(t, c, http.MethodPost, s.URL+"/oauth/introspect", strings.NewReader(form.Encode()), h)
	}
	postToken := url.Values{"token": {tokens["post client, body"]}}
	for what, p := range map[string]*testkit.Page{
		"post client, body":  introspect(inBody(post, postToken), nil),
		"post client, Basic": introspect(postToken, basicAuth(post.ID, post.Secret)),
		"basic client, body": introspect(inBody(basic, url.Values{"token": {tokens["basic client, Basic"]}}), nil),
	} {
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `"active":true`) {
			t.Errorf("introspection by the %s: %s", what, p)
		}
	}
	for what, p := range map[string]*testkit.Page{
		"public client":             introspect(url.Values{"token": {tokens["post client, body"]}, "client_id": {spa.ID}}, nil),
		"post client, wrong secret": introspect(url.Values{"token": {tokens["post client, body"]}, "client_id": {post.ID}, "client_secret": {"wrong"}}, nil),
	} {
		if p.Status != http.StatusUnauthorized || strings.Contains(p.Body, `"active":true`) {
			t.Errorf("introspection by the %s: %s", what, p)
		}
	}
	if p := send(t, c, http.MethodPost, s.URL+"/revoke", strings.NewReader(url.Values{"token": {"x"}, "client_id": {spa.ID}, "client_secret": {"anything"}}.Encode()), nil); p.Status != http.StatusUnauthorized {
		t.Errorf("revocation by a public client with a secret: %s", p)
	}
	noServerErrors(t, s)
}

// A client cannot revoke another client's tokens, and is told so
// (unauthorized_client, RFC 7009 §2.1) instead of the 200 it used to get,
// which left it believing a token dead that still worked. Unknown tokens
// still answer 200.
func TestSecurityRevokingAnotherClientsToken(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		jwtApp := s.NewRP(t, testkit.ClientOptions{AccessTokenFormat: "jwt"})
		other := s.NewRP(t, testkit.ClientOptions{})
		tokens := app.Login(s.NewBrowser(t), "alice", "alice-password")
		jwtTokens := jwtApp.Login(s.NewBrowser(t), "alice", "alice-password")
		ctx := context.Background()
		for what, tc := range map[string]struct{ token, hint string }{
			"refresh token":                  {tokens.RefreshToken, "refresh_token"},
			"refresh token, hint access":     {tokens.RefreshToken, "access_token"},
			"opaque access token":            {tokens.AccessToken, "access_token"},
			"opaque access token, no hint":   {tokens.AccessToken, ""},
			"JWT access token":               {jwtTokens.AccessToken, "access_token"},
			"refresh token of the JWT grant": {jwtTokens.RefreshToken, ""},
		} {
			err := rp.RevokeToken(ctx, other.Party, tc.token, tc.hint)
			if err == nil || !strings.Contains(err.Error(), "unauthorized_client") {
				t.Errorf("another client revoking the %s: %v, want unauthorized_client", what, err)
			}
		}
		if !active(t, s, app, tokens.AccessToken) || !active(t, s, jwtApp, jwtTokens.AccessToken) {
			t.Fatal("a refused revocation revoked the token")
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, tokens.RefreshToken, "", ""); err != nil {
			t.Fatalf("the refresh token after a refused revocation: %v", err)
		}
		if err := rp.RevokeToken(ctx, other.Party, "no-such-token", ""); err != nil {
			t.Errorf("an unknown token: %v, want 200", err)
		}
		if got := auditDetails(t, s, "revocation_refused"); len(got) != 6 {
			t.Errorf("audit events: %v", got)
		}
		noServerErrors(t, s)
	})
}

// An intercepted code tried with a wrong code_verifier is spent at once,
// so its holder gets no second guess and the real client's exchange fails
// too (it starts a new sign-in); a wrong client secret, which proves
// nothing about the code, still spends nothing.
func TestSecurityWrongVerifierSpendsTheCode(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		c := &http.Client{Transport: s.Transport()}
		f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		code := f.Code()
		exchange := func(verifier, secret string) *testkit.Page {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {app.RedirectURI}, "code_verifier": {verifier}}
			return send(t, c, http.MethodPost, s.URL+"/oauth/token", strings.NewReader(form.Encode()), basicAuth(app.ID, secret))
		}
		if p := exchange(f.Verifier, "wrong-secret"); p.Status != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %s", p)
		}
		if p := exchange(strings.Repeat("x", 43), "wrong-secret"); p.Status != http.StatusBadRequest || oauthError(p) != "invalid_grant" {
			t.Fatalf("wrong verifier: %s", p)
		}
		if p := exchange(f.Verifier, app.Secret); p.Status != http.StatusBadRequest || oauthError(p) != "invalid_grant" {
			t.Fatalf("the right verifier after a wrong one: %s", p)
		}
		if got := auditDetails(t, s, "pkce_failed"); len(got) != 1 {
			t.Errorf("pkce_failed events: %v", got)
		}
		noServerErrors(t, s)
	})
}

// A key given twice in an admin API body is refused, naming it: Go's JSON
// decoder kept the last, so a change reviewed (or filtered by a proxy) by
// its first value applied the second.
func TestSecurityAdminJSONDuplicateKeys(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	api, _ := bootstrapAdmin(t, s)
	s.CreateUser(t, "alice", "alice-password")
	api.wantError(400, admin.CodeInvalidArgument, "username", "POST", "/users",
		`{"username": "eve", "password": "eve-password", "username": "mallory"}`)
	api.wantError(400, admin.CodeInvalidArgument, "admin", "PATCH", "/users/alice", `{"admin": false, "admin": true}`)
	api.wantError(400, admin.CodeInvalidArgument, "second_factor", "PUT", "/policies/global",
		`{"second_factor": "required", "second_factor": "off"}`)
	if u := api.want(200, "GET", "/users/alice", nil); u["admin"] == true {
		t.Fatal("a refused body made alice an admin")
	}
	api.wantError(404, admin.CodeNotFound, "", "GET", "/users/mallory", nil)
	api.want(201, "POST", "/users", `{"username": "eve", "password": "eve-password"}`)
}

// zitadel/oidc decrypts any token it is shown as if it were one of its
// opaque access tokens, without authenticating it: a forged or foreign
// token can "decrypt" to random bytes with one colon, which it then takes
// for a token id and a subject. Such ids must look unknown (never a 500 on
// PostgreSQL, which refuses invalid UTF-8), and a refresh token that
// decrypts so must still be revoked, whatever the hint says.
func TestSecurityTokensThatDecryptToGarbage(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		var key [32]byte
		copy(key[:], s.App.Ring.Derive(keyring.PurposeOPCrypto))
		crypto := zop.NewAESCrypto(key)

		forged, err := crypto.Encrypt("\xff\xfe:\xff\x00")
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: s.Transport()}
		ui := send(t, c, http.MethodGet, s.URL+"/userinfo", nil, http.Header{"Authorization": {"Bearer " + forged}})
		if ui.Status != http.StatusUnauthorized {
			t.Errorf("userinfo with a token decrypting to invalid text: %s", ui)
		}
		if active(t, s, app, forged) {
			t.Error("introspection: a forged token is active")
		}
		if err := rp.RevokeToken(context.Background(), app.Party, forged, "access_token"); err != nil {
			t.Errorf("revoking a forged token: %v, want 200", err)
		}

		// Rotate until a refresh token decrypts to "id:subject" (about one
		// in eight does), then revoke it with the access-token hint.
		tokens := app.Login(s.NewBrowser(t), "alice", "alice-password")
		refresh := tokens.RefreshToken
		for i := 0; ; i++ {
			if plain, err := crypto.Decrypt(refresh); err == nil && strings.Count(plain, ":") == 1 {
				break
			}
			if i == 300 {
				t.Fatal("no refresh token decrypted to id:subject in 300 rotations")
			}
			next, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), app.Party, refresh, "", "")
			if err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
			refresh = next.RefreshToken
		}
		if err := rp.RevokeToken(context.Background(), app.Party, refresh, "access_token"); err != nil {
			t.Fatalf("revoking the refresh token: %v", err)
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), app.Party, refresh, "", ""); err == nil {
			t.Fatal("a revoked refresh token still refreshes")
		}
		noServerErrors(t, s)
	})
}
