package e2e

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/storage"
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

// refreshAll presents one refresh token in n parallel requests, released
// together, as a relying party with several worker processes does.
func refreshAll(party rp.RelyingParty, token string, n int) ([]*oidc.Tokens[*oidc.IDTokenClaims], []error) {
	out := make([]*oidc.Tokens[*oidc.IDTokenClaims], n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i], errs[i] = rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), party, token, "", "")
		})
	}
	close(start)
	wg.Wait()
	return out, errs
}

// TestRefreshStorm: a confidential client that refreshes one token from 12
// processes at once (mod_auth_openidc under Apache) keeps a working grant:
// every request gets the same successor and a working access token with
// the sign-in's acr. Past tokens.refresh_reuse_grace, presenting a rotated
// token again, also 12 times at once, is reuse and revokes the grant.
func TestRefreshStorm(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		ctx := context.Background()
		first := app.Login(s.NewBrowser(t), "alice", "alice-password")

		const n = 12
		got, errs := refreshAll(app.Party, first.RefreshToken, n)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("refresh %d of %d parallel ones: %v", i+1, n, err)
			}
		}
		successor := got[0].RefreshToken
		for i, tok := range got {
			if tok.RefreshToken != successor || successor == first.RefreshToken {
				t.Fatalf("parallel refresh %d got another refresh token: a new branch, not the successor", i+1)
			}
			if acr := tok.IDTokenClaims.AuthenticationContextClassReference; acr != first.IDTokenClaims.AuthenticationContextClassReference {
				t.Errorf("parallel refresh %d: acr %q", i+1, acr)
			}
			if !active(t, s, app, tok.AccessToken) {
				t.Errorf("parallel refresh %d: access token not active", i+1)
			}
		}
		// The grant goes on from the one successor.
		next, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, successor, "", "")
		if err != nil {
			t.Fatalf("refreshing the successor after the storm: %v", err)
		}
		if _, err := rp.Userinfo[*oidc.UserInfo](ctx, next.AccessToken, "Bearer", first.IDTokenClaims.Subject, app.Party); err != nil {
			t.Fatalf("userinfo after the storm: %v", err)
		}
		stored, err := s.App.Store.AuditEvents(ctx, storage.AuditFilter{ClientID: app.ID, Type: "refresh_token_reuse"})
		if err != nil || len(stored) != 0 {
			t.Fatalf("the storm was taken for reuse: %d events, %v", len(stored), err)
		}

		// Past the grace, presenting a rotated token again is reuse, even
		// 12 times at once: nobody gets tokens and the grant dies.
		s.Clock.Advance(3 * time.Second)
		if _, errs := refreshAll(app.Party, successor, n); slices.ContainsFunc(errs, func(err error) bool { return err == nil }) {
			t.Fatal("a rotated token presented after the grace got tokens")
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, next.RefreshToken, "", ""); err == nil {
			t.Fatal("the newest refresh token of a reused grant still works")
		}
		for i, tok := range append(got, next) {
			if active(t, s, app, tok.AccessToken) {
				t.Errorf("access token %d of a reused grant still active", i+1)
			}
		}
	})
}

// TestRefreshReuseGraceLimits: the grace is for the client the token was
// issued to and, by default, for confidential clients only. Another
// client presenting a rotated token within the grace revokes the grant;
// a public client's second presentation revokes it at once.
func TestRefreshReuseGraceLimits(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		ctx := context.Background()

		app := s.NewRP(t, testkit.ClientOptions{})
		other := s.NewRP(t, testkit.ClientOptions{})
		first := app.Login(s.NewBrowser(t), "alice", "alice-password")
		second, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, first.RefreshToken, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, other.Party, first.RefreshToken, "", ""); err == nil {
			t.Fatal("another client's rotated refresh token accepted")
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, second.RefreshToken, "", ""); err == nil {
			t.Fatal("a grant whose rotated token another client presented is still alive")
		}

		spa := s.NewRP(t, testkit.ClientOptions{Public: true, RedirectURIs: []string{"http://localhost:3000/cb"}})
		first = spa.Login(s.NewBrowser(t), "alice", "alice-password")
		second, err = rp.RefreshTokens[*oidc.IDTokenClaims](ctx, spa.Party, first.RefreshToken, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, spa.Party, first.RefreshToken, "", ""); err == nil {
			t.Fatal("a public client's rotated refresh token accepted again (no grace by default)")
		}
		if _, err := rp.Userinfo[*oidc.UserInfo](ctx, second.AccessToken, "Bearer", first.IDTokenClaims.Subject, spa.Party); err == nil {
			t.Fatal("a public client's grant survived reuse")
		}
	})
}
