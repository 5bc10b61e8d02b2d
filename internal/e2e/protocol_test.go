package e2e

// The protocol as relying parties see it, through a real relying-party
// library: client authentication methods, userinfo and revocation errors,
// PKCE failures, and discovery that says what is served.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/testkit"
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
