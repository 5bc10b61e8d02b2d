package e2e

// The protocol as relying parties see it, through a real relying-party
// library: client authentication methods, userinfo and revocation errors,
// PKCE failures, and discovery that says what is served.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login"
)

// partyWith is a relying party of app built with extra library options.
func partyWith(t *testing.T, s *testkit.Server, app *testkit.RP, opts ...rp.Option) rp.RelyingParty {
	t.Helper()
	opts = append(opts, rp.WithHTTPClient(&http.Client{Transport: s.Transport()}))
	party, err := rp.NewRelyingPartyOIDC(context.Background(), s.URL, app.ID, app.Secret, app.RedirectURI,
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return party
}

// A client signs in, refreshes, introspects and revokes through the
// library configured for the method it is registered for; x/oauth2's
// default (Basic first, then the body, as go-oidc users get) signs in a
// client_secret_post client too. A library that sends a
// client_secret_basic client's secret in the body is refused at the token
// endpoint (zitadel/oidc accepted any method the request happened to use).
func TestClientAuthMethodsWithRelyingPartyLibrary(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		ctx := context.Background()
		for _, method := range []string{"client_secret_basic", "client_secret_post"} {
			app := s.NewRP(t, testkit.ClientOptions{AuthMethod: method})
			tokens := app.Login(s.NewBrowser(t), "alice", "alice-password")
			refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, tokens.RefreshToken, "", "")
			if err != nil {
				t.Fatalf("%s: refresh: %v", method, err)
			}
			if !active(t, s, app, refreshed.AccessToken) { // the resource server sends Basic
				t.Fatalf("%s: introspection of a live token says inactive", method)
			}
			if err := rp.RevokeToken(ctx, app.Party, refreshed.RefreshToken, "refresh_token"); err != nil {
				t.Fatalf("%s: revoke: %v", method, err)
			}
		}
		post := s.NewRP(t, testkit.ClientOptions{AuthMethod: "client_secret_post"})
		post.Party = partyWith(t, s, post) // x/oauth2's AuthStyleAutoDetect
		f := post.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		if _, err := f.Exchange(f.Code()); err != nil {
			t.Fatalf("client_secret_post with x/oauth2's default: %v", err)
		}

		basic := s.NewRP(t, testkit.ClientOptions{AuthMethod: "client_secret_basic"})
		basic.Party = partyWith(t, s, basic, rp.WithAuthStyle(oauth2.AuthStyleInParams))
		f = basic.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		_, err := f.Exchange(f.Code())
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
			t.Fatalf("a client_secret_basic client's secret in the body: %v, want invalid_client", err)
		}
		if strings.Contains(s.Log.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", grepLines(s.Log.String(), "level=ERROR"))
		}
	})
}

// Userinfo answers a token it will not honour as RFC 6750 §3.1 says, and
// its body says what its WWW-Authenticate says: 401 invalid_token for a
// revoked, expired or made-up token (it was 403 with no challenge for the
// first two, and a body saying invalid_request for the last), a bare
// Bearer challenge when no token came, and 403 insufficient_scope for a
// machine client's token, which has no user.
func TestUserinfoErrorsFollowRFC6750(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		machine := s.NewRP(t, testkit.ClientOptions{GrantTypes: []string{"client_credentials"}})
		ctx := context.Background()
		c := &http.Client{Transport: s.Transport()}
		userinfo := func(token string) *testkit.Page {
			h := http.Header{}
			if token != "" {
				h.Set("Authorization", "Bearer "+token)
			}
			return send(t, c, http.MethodGet, s.URL+"/userinfo", nil, h)
		}
		live := app.Login(s.NewBrowser(t), "alice", "alice-password")
		if _, err := rp.Userinfo[*oidc.UserInfo](ctx, live.AccessToken, "Bearer", live.IDTokenClaims.Subject, app.Party); err != nil {
			t.Fatalf("userinfo with a live token: %v", err)
		}
		revoked := app.Login(s.NewBrowser(t), "alice", "alice-password")
		if err := rp.RevokeToken(ctx, app.Party, revoked.AccessToken, "access_token"); err != nil {
			t.Fatal(err)
		}
		machineToken, err := rp.ClientCredentials(ctx, machine.Party, nil)
		if err != nil {
			t.Fatal(err)
		}
		cases := map[string]struct {
			token, challenge, code string
			status                 int
		}{
			"revoked":  {revoked.AccessToken, `Bearer realm="twofold", error="invalid_token"`, "invalid_token", 401},
			"made up":  {"not-a-token", `Bearer realm="twofold", error="invalid_token"`, "invalid_token", 401},
			"no token": {"", `Bearer realm="twofold"`, "invalid_request", 401},
			"machine":  {machineToken.AccessToken, `Bearer realm="twofold", error="insufficient_scope"`, "insufficient_scope", 403},
			"expired":  {live.AccessToken, `Bearer realm="twofold", error="invalid_token"`, "invalid_token", 401},
		}
		for _, name := range []string{"revoked", "made up", "no token", "machine", "expired"} {
			tc := cases[name]
			if name == "expired" {
				s.Clock.Advance(s.App.Cfg.Tokens.AccessTokenTTL.D() + time.Second)
			}
			p := userinfo(tc.token)
			if p.Status != tc.status || p.Header.Get("WWW-Authenticate") != tc.challenge || oauthError(p) != tc.code ||
				p.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s token: want %d %q %s, got WWW-Authenticate %q Cache-Control %q, %s",
					name, tc.status, tc.challenge, tc.code, p.Header.Get("WWW-Authenticate"), p.Header.Get("Cache-Control"), p)
			}
		}
		noServerErrors(t, s)
	})
}

// formPage is the action and fields of a form_post answer.
func formPage(t *testing.T, p *testkit.Page) (action string, fields url.Values) {
	t.Helper()
	m := regexp.MustCompile(`<form method="post" action="([^"]*)"`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("not a form_post answer: %s", p)
	}
	fields = url.Values{}
	for _, name := range []string{"code", "state", "error", "error_description"} {
		if v := p.Field(name); v != "" {
			fields.Set(name, v)
		}
	}
	return html.UnescapeString(m[1]), fields
}

// claimNames returns the names of a JSON object's members.
func claimNames(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("claims: %v: %s", err, raw)
	}
	return slices.Collect(maps.Keys(m))
}

// Discovery says what twofold serves, and what it says works through a
// relying-party library: the acr values step-up asks for, the response
// modes (query, fragment, form_post; JARM's query.jwt is refused, not
// ignored), and exactly the claims ID tokens and userinfo carry. Errors
// honour form_post too, from /authorize and from the login.
func TestDiscoverySaysWhatIsServed(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}, Locale: "de"}) // a locale: the profile scope issues it
	app := s.NewRP(t, testkit.ClientOptions{})
	ctx := context.Background()
	doc, err := client.Discover(ctx, s.URL, &http.Client{Transport: s.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(doc.ACRValuesSupported, []string{login.ACRPassword, login.ACRTwoFactor}) ||
		!slices.Equal(doc.ResponseModesSupported, []string{"query", "fragment", "form_post"}) ||
		!slices.Contains(doc.IntrospectionEndpointAuthMethodsSupported, oidc.AuthMethodPost) {
		t.Errorf("acr %v, response modes %v, introspection auth %v", doc.ACRValuesSupported, doc.ResponseModesSupported,
			doc.IntrospectionEndpointAuthMethodsSupported)
	}

	// Step-up by acr_values, with a nonce and every scope: the library
	// checks acr and nonce; the claims issued are the claims advertised.
	const nonce = "n-0123456789"
	app.Party = partyWith(t, s, app, rp.WithAuthStyle(oauth2.AuthStyleInHeader), rp.WithVerifierOpts(
		rp.WithNonce(func(context.Context) string { return nonce }), rp.WithACRVerifier(oidc.DefaultACRVerifier([]string{login.ACRTwoFactor}))))
	b := s.NewBrowser(t)
	f := app.Start(b, testkit.AuthParams{"acr_values": login.ACRTwoFactor, "nonce": nonce, "scope": "openid profile email phone offline_access"})
	tokens, err := f.Password("alice", "alice-password").SubmitCode(tw.LastCode(alicePhone)).Exchange(f.Code())
	if err != nil {
		t.Fatalf("step-up sign-in: %v", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tokens.IDToken, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	info := send(t, &http.Client{Transport: s.Transport()}, http.MethodGet, s.URL+"/userinfo", nil, http.Header{"Authorization": {"Bearer " + tokens.AccessToken}})
	issued := append(claimNames(t, payload), claimNames(t, []byte(info.Body))...)
	slices.Sort(issued)
	issued = slices.Compact(issued)
	advertised := slices.Sorted(slices.Values(doc.ClaimsSupported))
	if !slices.Equal(issued, advertised) {
		t.Errorf("claims issued %v, advertised %v", issued, advertised)
	}

	// Each advertised response mode carries the code back (b is signed in).
	for _, mode := range []string{"query", "fragment", "form_post"} {
		g := app.Start(b, testkit.AuthParams{"response_mode": mode, "nonce": nonce})
		var got url.Values
		switch mode {
		case "form_post":
			action, fields := formPage(t, g.Page)
			if action != app.RedirectURI {
				t.Errorf("form_post to %q", action)
			}
			got = fields
		case "fragment":
			u, _ := url.Parse(g.Page.Location)
			got, _ = url.ParseQuery(u.Fragment)
		default:
			u, _ := url.Parse(g.Page.Location)
			got = u.Query()
		}
		if got.Get("state") != g.State || got.Get("code") == "" {
			t.Fatalf("response_mode=%s: %s", mode, g.Page)
		}
		if _, err := g.Exchange(got.Get("code")); err != nil {
			t.Errorf("response_mode=%s: exchange: %v", mode, err)
		}
	}

	// JARM is not served: asking for it is an error, not a plain answer.
	g := app.Start(b, testkit.AuthParams{"response_mode": "query.jwt"})
	if q := g.Callback(); q.Get("error") != "invalid_request" || q.Get("code") != "" {
		t.Errorf("response_mode=query.jwt: %v", q)
	}

	// Errors honour form_post: an unsupported response type at /authorize,
	// and prompt=none without a session at the login.
	c := &http.Client{Transport: s.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {app.ID}, "redirect_uri": {app.RedirectURI}, "response_type": {"token"}, "scope": {"openid"},
		"state": {"st-1"}, "response_mode": {"form_post"}}
	action, fields := formPage(t, send(t, c, http.MethodGet, s.URL+"/authorize?"+q.Encode(), nil, nil))
	if action != app.RedirectURI || fields.Get("error") == "" || fields.Get("state") != "st-1" || fields.Get("code") != "" {
		t.Errorf("unsupported response_type with form_post: %s %v", action, fields)
	}
	g = app.Start(s.NewBrowser(t), testkit.AuthParams{"prompt": "none", "response_mode": "form_post"})
	action, fields = formPage(t, g.Page)
	if action != app.RedirectURI || fields.Get("error") != "login_required" || fields.Get("state") != g.State {
		t.Errorf("prompt=none with form_post: %s %v", action, fields)
	}
	noServerErrors(t, s)
}
