package e2e

import (
	"context"
	"slices"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login"
)

// TestRefreshKeepsACR: an ID token from a refresh says what the sign-in
// reached, as the first one did: acr (which zitadel/oidc leaves out of
// refreshes), amr and auth_time, refresh after refresh. A relying party
// that requires the two-factor level keeps its user.
func TestRefreshKeepsACR(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s, tw, _ := codeServer(t, o)
		s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
		s.CreateUser(t, "bob", "bob-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		ctx := context.Background()

		f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		first, err := f.SubmitCode(tw.LastCode(alicePhone)).Exchange(f.Code())
		if err != nil {
			t.Fatal(err)
		}
		want := first.IDTokenClaims
		if want.AuthenticationContextClassReference != login.ACRTwoFactor {
			t.Fatalf("sign-in acr = %q, want %q", want.AuthenticationContextClassReference, login.ACRTwoFactor)
		}
		rt := first.RefreshToken
		for i := range 2 {
			next, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, rt, "", "")
			if err != nil {
				t.Fatalf("refresh %d: %v", i+1, err)
			}
			got := next.IDTokenClaims
			if got.AuthenticationContextClassReference != login.ACRTwoFactor || !slices.Equal(got.AuthenticationMethodsReferences, want.AuthenticationMethodsReferences) ||
				!got.AuthTime.AsTime().Equal(want.AuthTime.AsTime()) || got.Subject != want.Subject {
				t.Fatalf("refresh %d ID token: acr %q amr %v auth_time %v; want %q %v %v", i+1, got.AuthenticationContextClassReference,
					got.AuthenticationMethodsReferences, got.AuthTime, want.AuthenticationContextClassReference, want.AuthenticationMethodsReferences, want.AuthTime)
			}
			rt = next.RefreshToken
		}

		// A password-only sign-in keeps its own, lower level.
		pwd := app.Login(s.NewBrowser(t), "bob", "bob-password")
		next, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, pwd.RefreshToken, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if acr := next.IDTokenClaims.AuthenticationContextClassReference; acr != pwd.IDTokenClaims.AuthenticationContextClassReference || acr == "" {
			t.Fatalf("refresh of a password sign-in: acr %q, first ID token %q", acr, pwd.IDTokenClaims.AuthenticationContextClassReference)
		}
	})
}
