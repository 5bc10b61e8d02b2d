package e2e

// The security suite's sessions: what a client's id_token_hint may and may
// not do with the SSO session of the browser that carries it.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
)

// prompt=none with an id_token_hint for another user than the one signed
// in answers login_required (OIDC Core 3.1.2.1), never a code for the user
// the client did not ask about; without prompt=none the browser is asked to
// sign in instead of the session answering. The hint of the user signed in
// still gets a code at once.
func TestSecurityPromptNoneHintForAnotherUser(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	s.CreateUser(t, "bob", "bob-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	bob := app.Login(s.NewBrowser(t), "bob", "bob-password")
	b := s.NewBrowser(t)
	alice := app.Login(b, "alice", "alice-password")

	q := app.Start(b, testkit.AuthParams{"prompt": "none", "id_token_hint": bob.IDToken}).Callback()
	if q.Get("error") != "login_required" || q.Get("code") != "" {
		t.Fatalf("prompt=none with another user's hint: %v, want login_required and no code", q)
	}
	if f := app.Start(b, testkit.AuthParams{"id_token_hint": bob.IDToken}); f.Page.Status != http.StatusOK || f.Page.Field("authRequestID") == "" {
		t.Fatalf("another user's hint without prompt=none: want the password page, got %s", f.Page)
	}
	if got := auditDetails(t, s, "sso_refused"); len(got) != 2 {
		t.Errorf("sso_refused audit events: %v, want 2", got)
	}

	f := app.Start(b, testkit.AuthParams{"prompt": "none", "id_token_hint": alice.IDToken})
	tokens, err := f.Exchange(f.Code())
	if err != nil {
		t.Fatal(err)
	}
	if tokens.IDTokenClaims.Subject != alice.IDTokenClaims.Subject {
		t.Fatalf("prompt=none with the signed-in user's hint signed in %q, want %q", tokens.IDTokenClaims.Subject, alice.IDTokenClaims.Subject)
	}
	noServerErrors(t, s)
}

// A top-level cross-site GET /end_session (a link or an <img> on any page)
// no longer signs the user out by itself: without a valid id_token_hint of
// the user signed in, the user is asked on a page of ours, and only a
// same-origin POST of that page ends the session (with its tokens). A
// valid hint of the user signed in still ends it at once.
func TestSecurityCrossSiteLogoutAsks(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	s.CreateUser(t, "bob", "bob-password")
	app := s.NewRP(t, testkit.ClientOptions{Name: "Wiki", PostLogoutRedirectURIs: []string{"https://rp.example/bye"}})
	bob := app.Login(s.NewBrowser(t), "bob", "bob-password")
	b := s.NewBrowser(t)
	alice := app.Login(b, "alice", "alice-password")
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-Mode": {"navigate"}}
	forged, _, _ := strings.Cut(alice.IDToken, ".")

	for _, tc := range []struct {
		name    string
		query   url.Values
		want    []string // on the page
		problem bool
	}{
		{"no parameters", url.Values{}, []string{"A page asks to sign you out"}, false},
		{"client_id", url.Values{"client_id": {app.ID}, "post_logout_redirect_uri": {"https://rp.example/bye"}, "state": {"s1"}},
			[]string{"<strong>Wiki</strong> asks", `name="state" value="s1"`}, false},
		{"another user's hint", url.Values{"id_token_hint": {bob.IDToken}}, []string{"<strong>Wiki</strong> asks"}, false},
		{"a forged hint", url.Values{"id_token_hint": {forged + ".e30.c2ln"}}, []string{"cannot verify"}, true},
		{"an unregistered return address", url.Values{"id_token_hint": {alice.IDToken}, "post_logout_redirect_uri": {"https://evil.example/"}},
			[]string{"has not registered"}, true},
	} {
		p := send(t, b.HTTP, http.MethodGet, s.URL+"/end_session?"+tc.query.Encode(), nil, crossSite)
		if p.Status != http.StatusOK || p.Location != "" || !strings.Contains(p.Body, `action="/end_session/confirm"`) ||
			!strings.Contains(p.Body, "signed in as <strong>alice</strong>") || len(p.Header.Values("Set-Cookie")) > 0 {
			t.Fatalf("%s: want the confirmation page, got %s", tc.name, p)
		}
		for _, w := range tc.want {
			if !strings.Contains(p.Body, w) {
				t.Errorf("%s: the page lacks %q:\n%s", tc.name, w, p.Body)
			}
		}
		if got := strings.Contains(p.Body, `role="alert"`); got != tc.problem {
			t.Errorf("%s: problem shown = %v, want %v", tc.name, got, tc.problem)
		}
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") || p.Header.Get("Cache-Control") != "no-store" ||
			!strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: confirmation page headers %v", tc.name, p.Header)
		}
		if !signedIn(t, app, b) || !active(t, s, app, alice.AccessToken) {
			t.Fatalf("%s: the cross-site GET ended the session", tc.name)
		}
	}
	// Bob's hint was valid: his relying party proved that it wanted his
	// session gone, and it is; alice's was only asked about.
	if active(t, s, app, bob.AccessToken) {
		t.Error("the session bob's valid hint names survived")
	}
	if got := auditDetails(t, s, "logout"); !slices.Equal(got, []string{"logout by=relying_party"}) {
		t.Fatalf("logout audit events: %v, want bob's only", got)
	}

	// The page's form, posted from another site, is refused; "Stay signed
	// in" leaves the session alone; "Sign out" ends it and goes to the
	// address registered for the client named, with the state.
	page := send(t, b.HTTP, http.MethodGet, s.URL+"/end_session?"+url.Values{"client_id": {app.ID},
		"post_logout_redirect_uri": {"https://rp.example/bye"}, "state": {"s2"}}.Encode(), nil, crossSite)
	form := url.Values{"client_id": {page.Field("client_id")}, "post_logout_redirect_uri": {page.Field("post_logout_redirect_uri")},
		"state": {page.Field("state")}, "confirm": {"yes"}}
	p := postForm(t, b, s.URL, "/end_session/confirm", form, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "sent from another site") || !signedIn(t, app, b) {
		t.Fatalf("cross-site confirmation: %s", p)
	}
	sameOrigin := http.Header{"Origin": {s.URL}, "Sec-Fetch-Site": {"same-origin"}}
	form.Set("confirm", "no")
	if p := postForm(t, b, s.URL, "/end_session/confirm", form, sameOrigin); p.Status != http.StatusOK || !strings.Contains(p.Body, "still signed in") || !signedIn(t, app, b) {
		t.Fatalf("stay signed in: %s", p)
	}
	form.Set("confirm", "yes")
	p = postForm(t, b, s.URL, "/end_session/confirm", form, sameOrigin)
	if p.Status != http.StatusSeeOther || p.Location != "https://rp.example/bye?state=s2" {
		t.Fatalf("confirmed sign-out: %s", p)
	}
	if signedIn(t, app, b) || active(t, s, app, alice.AccessToken) {
		t.Fatal("the session or its access token survived the confirmed sign-out")
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), app.Party, alice.RefreshToken, "", ""); err == nil {
		t.Fatal("the refresh token survived the confirmed sign-out")
	}
	if got := auditDetails(t, s, "logout"); !slices.Contains(got, "logout by=end_session_confirmed") {
		t.Errorf("logout audit events: %v", got)
	}

	// A valid hint of the user signed in signs out at once, as before.
	again := app.Login(b, "alice", "alice-password")
	p = send(t, b.HTTP, http.MethodGet, s.URL+"/end_session?"+url.Values{"id_token_hint": {again.IDToken},
		"post_logout_redirect_uri": {"https://rp.example/bye"}}.Encode(), nil, crossSite)
	if p.Status != http.StatusFound || p.Location != "https://rp.example/bye" || signedIn(t, app, b) {
		t.Fatalf("end_session with the user's own hint: %s", p)
	}
	noServerErrors(t, s)
}

// signedIn reports whether the browser's SSO session answers prompt=none.
func signedIn(t *testing.T, app *testkit.RP, b *testkit.Browser) bool {
	t.Helper()
	return app.Start(b, testkit.AuthParams{"prompt": "none"}).Callback().Get("code") != ""
}
