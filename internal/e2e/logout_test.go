package e2e

// RP-initiated logout as relying parties really send it: from their server
// with no cookie (zitadel/oidc's rp.EndSession, oauth2-proxy's
// --backend-logout-url), with a return address spelled without the path's
// "/" (express-openid-connect), and with mistakes a browser must be told
// about in a page rather than in JSON.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
)

// A relying party's server ends the session its ID token names, with no
// cookie: the user's browser is signed out, the tokens are revoked, the
// other applications are told by back-channel logout, and an audit event
// says so. Only that session ends: the same user's session in another
// browser goes on.
func TestRelyingPartyLogoutFromItsServer(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		ctx := context.Background()
		alice := s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{Name: "Wiki", PostLogoutRedirectURIs: []string{"https://rp.example/bye"}})
		other := s.NewRP(t, testkit.ClientOptions{Name: "Mail", RedirectURIs: []string{"https://mail.example/cb"},
			BackchannelLogoutURI: "https://mail.example/backchannel"})
		b, elsewhere := s.NewBrowser(t), s.NewBrowser(t)
		tokens := app.Login(b, "alice", "alice-password")
		other.Start(b, nil).Code() // SSO: the same session
		kept := app.Login(elsewhere, "alice", "alice-password")

		// zitadel/oidc's relying party, from its server: a form POST with
		// the ID token, no cookie, redirects not followed.
		to, err := rp.EndSession(ctx, app.Party, tokens.IDToken, "https://rp.example/bye", "st", "", nil)
		if err != nil || to == nil || to.String() != "https://rp.example/bye?state=st" {
			t.Fatalf("rp.EndSession = %v, %v; want the registered address with the state", to, err)
		}
		if signedIn(t, app, b) || active(t, s, app, tokens.AccessToken) {
			t.Fatal("the session named by the ID token survived its relying party's logout")
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, tokens.RefreshToken, "", ""); err == nil {
			t.Fatal("the refresh token survived its relying party's logout")
		}
		if !signedIn(t, app, elsewhere) || !active(t, s, app, kept.AccessToken) {
			t.Fatal("a session the ID token does not name was ended")
		}
		if d, err := s.App.Store.LogoutDeliveries(ctx, alice); err != nil || len(d) != 1 || d[0].ClientID != other.ID || d[0].SessionID != tokens.IDTokenClaims.SessionID {
			t.Errorf("back-channel logout deliveries: %+v, %v; want one to Mail for the ended session", d, err)
		}
		if got := auditDetails(t, s, "logout"); len(got) != 1 || got[0] != "logout by=relying_party" {
			t.Errorf("logout audit events: %v", got)
		}

		// oauth2-proxy's --backend-logout-url: a GET that follows redirects
		// and wants a 200 at the end. The ID token may have expired by then;
		// its signature still proves the relying party's intent.
		expired := reissue(t, s, kept.IDToken, func(c map[string]any) {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		})
		follow := &http.Client{Transport: s.Transport()}
		p := send(t, follow, http.MethodGet, s.URL+"/end_session?id_token_hint="+url.QueryEscape(expired), nil, nil)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "You are signed out") {
			t.Fatalf("backend logout with an expired ID token: %s", p)
		}
		if signedIn(t, app, elsewhere) {
			t.Fatal("the backend logout with an expired ID token ended nothing")
		}

		// A token that is not ours ends nothing, and says so in a page.
		forged := reissue(t, s, kept.IDToken, nil)
		forged = forged[:strings.LastIndexByte(forged, '.')+1] + base64.RawURLEncoding.EncodeToString([]byte("not a signature"))
		third := app.Login(elsewhere, "alice", "alice-password")
		p = send(t, follow, http.MethodGet, s.URL+"/end_session?id_token_hint="+url.QueryEscape(forged), nil, nil)
		if p.Status != http.StatusBadRequest || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") || !strings.Contains(p.Body, "cannot verify") {
			t.Fatalf("backend logout with a forged ID token: %s", p)
		}
		if !active(t, s, app, third.AccessToken) {
			t.Fatal("a forged ID token ended a session")
		}
		noServerErrors(t, s)
	})
}

// reissue signs the claims of an ID token again with the provider's own
// key after edit changes them: a token the provider could have issued.
func reissue(t *testing.T, s *testkit.Server, idToken string, edit func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(idToken, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(claims)
	}
	key, err := s.App.Keys.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(claims)
	jws, err := signer.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A mistake in a browser's end_session request gets our HTML page, not the
// library's JSON; the user can still sign out there, and then lands on our
// signed-out page, never on an address the client did not register.
func TestEndSessionMistakesInTheBrowser(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{Name: "Wiki", PostLogoutRedirectURIs: []string{"https://rp.example/bye"}})
	for _, tc := range []struct {
		name    string
		query   func(tokens *oidc.Tokens[*oidc.IDTokenClaims]) url.Values
		problem string
	}{
		{"unregistered post_logout_redirect_uri", func(tok *oidc.Tokens[*oidc.IDTokenClaims]) url.Values {
			return url.Values{"id_token_hint": {tok.IDToken}, "post_logout_redirect_uri": {"https://evil.example/bye"}, "state": {"s"}}
		}, "has not registered"},
		{"invalid id_token_hint", func(tok *oidc.Tokens[*oidc.IDTokenClaims]) url.Values {
			return url.Values{"id_token_hint": {tok.IDToken + "x"}, "post_logout_redirect_uri": {"https://rp.example/bye"}}
		}, "cannot verify"},
		{"client_id against the hint", func(tok *oidc.Tokens[*oidc.IDTokenClaims]) url.Values {
			return url.Values{"id_token_hint": {tok.IDToken}, "client_id": {"someone-else"}}
		}, "named itself differently"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := s.NewBrowser(t)
			tokens := app.Login(b, "alice", "alice-password")
			p := b.Get("/end_session?" + tc.query(tokens).Encode())
			if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(p.Body, tc.problem) || !strings.Contains(p.Body, `action="/end_session/confirm"`) {
				t.Fatalf("want our page with the problem and the sign-out form, got %s", p)
			}
			if !signedIn(t, app, b) {
				t.Fatal("a request with a mistake signed the browser out unasked")
			}
			form := url.Values{"confirm": {"yes"}}
			for _, k := range []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state"} {
				if v := p.Field(k); v != "" {
					form.Set(k, v)
				}
			}
			p = b.Post("/end_session/confirm", form)
			if p.Status != http.StatusSeeOther || p.Location != "/logged-out" {
				t.Fatalf("confirmed: want /logged-out, got %s", p)
			}
			if signedIn(t, app, b) || active(t, s, app, tokens.AccessToken) {
				t.Fatal("the confirmed sign-out left the session or its tokens")
			}
		})
	}
	// Without a session there is nothing to confirm: the page says what is
	// wrong, with 400.
	p := s.NewBrowser(t).Get("/end_session?" + url.Values{"client_id": {app.ID}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
	if p.Status != http.StatusBadRequest || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(p.Body, "has not registered") || p.Location != "" || strings.Contains(p.Body, `action="/end_session/confirm"`) {
		t.Fatalf("a mistake without a session: %s", p)
	}
	noServerErrors(t, s)
}

// A post-logout URI that differs from the registered one only by the "/"
// of an empty path is the same URI (RFC 3986 §6.2.3), as
// express-openid-connect sends it; anything else still has to match
// exactly.
func TestPostLogoutURIWithoutTheRootSlash(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{PostLogoutRedirectURIs: []string{"https://app.example/", "https://other.example"}})
	for _, tc := range []struct{ sent, want string }{
		{"https://app.example", "https://app.example/?state=s"},
		{"https://other.example/", "https://other.example?state=s"},
		{"https://app.example/", "https://app.example/?state=s"},
		{"https://app.example.evil", ""},
		{"https://app.example/x", ""},
		{"https://app.example//", ""},
		{"https://app.example?x=1", ""},
	} {
		b := s.NewBrowser(t)
		tokens := app.Login(b, "alice", "alice-password")
		p := b.Get("/end_session?" + url.Values{"id_token_hint": {tokens.IDToken}, "post_logout_redirect_uri": {tc.sent}, "state": {"s"}}.Encode())
		switch {
		case tc.want != "" && (p.Status != http.StatusFound || p.Location != tc.want):
			t.Errorf("%s: want a redirect to %s, got %s", tc.sent, tc.want, p)
		case tc.want == "" && (p.Location != "" || !strings.Contains(p.Body, "has not registered")):
			t.Errorf("%s: want the page refusing the address, got %s", tc.sent, p)
		}
	}
}

// In a real browser, a sign-out link without an ID token shows our page;
// its buttons work without JavaScript, through the cross-origin check, as
// Chromium sends them.
func TestBrowserLogoutConfirmation(t *testing.T) {
	b := newTab(t)
	s := devServer(t)
	b.closeBeforeServers()
	s.CreateUser(t, "alice", "alice-password")
	b.load("open the demo", chromedp.Navigate(s.URL+"/demo"))
	b.load("click sign in", chromedp.Click(chromedp.ID("start")))
	b.signIn("alice", "alice-password")
	b.wantPath(s.URL, "/demo/callback")

	resp := b.load("open a bare sign-out link", chromedp.Navigate(s.URL+"/end_session"))
	wantHeaders(b, resp)
	wantContains(b, "confirmation page", b.text("main"), "Sign out of twofold?", "signed in as alice")
	b.load("stay signed in", chromedp.Click(chromedp.CSS(`button[value="no"]`)))
	wantContains(b, "after Stay signed in", b.text("h1"), "You are still signed in")

	b.load("open it again", chromedp.Navigate(s.URL+"/end_session?client_id=demo"))
	wantContains(b, "confirmation page", b.text("main"), "twofold demo asks to sign you out")
	b.load("sign out", chromedp.Click(chromedp.CSS(`button[value="yes"]`)))
	b.wantPath(s.URL, "/logged-out")
	b.load("sign in again", chromedp.Navigate(s.URL+"/demo"))
	b.load("click sign in", chromedp.Click(chromedp.ID("start")))
	b.wantPath(s.URL, "/login")
	b.checkPasswordForm()
}
