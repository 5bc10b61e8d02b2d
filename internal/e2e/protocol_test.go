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
