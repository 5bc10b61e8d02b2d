package e2e

// Where a sign-in code may go when the chosen channel fails.

import (
	"context"
	"html"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/storage"
)

// A code goes only to a phone number or address that the user or an admin
// vouched for: when a text cannot go out (Twilio fails, or the number's
// country is not allowed), an unverified email address gets nothing, and
// the page says that there is no other way. Once an admin vouches for the
// address, the fallback serves again.
func TestSecurityFallbackOnlyToVerifiedAddress(t *testing.T) {
	for _, tc := range []struct {
		name       string
		phone      string
		twilioDown bool
	}{
		{"twilio answers 5xx", alicePhone, true},
		{"country not allowed", gbPhone, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, tw, mail := attackServer(t, testkit.ServerOptions{}, nil)
			alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: tc.phone, Methods: []string{"sms"}})
			setEmailVerified(t, s, alice, false)
			if tc.twilioDown {
				tw.Fail(http.StatusServiceUnavailable)
			}
			app := s.NewRP(t, testkit.ClientOptions{})
			f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
			if n := len(mail.Messages()); n != 0 {
				t.Fatalf("%d emails went to an unverified address", n)
			}
			body := html.UnescapeString(f.Page.Body)
			if f.Page.Status != http.StatusServiceUnavailable || !strings.Contains(body, "there is no other way to reach you") ||
				strings.Contains(body, `autocomplete="one-time-code"`) {
				t.Fatalf("text failed and the address is unverified: %s", f.Page)
			}
			if got := auditDetails(t, s, "code_fallback_skipped"); len(got) != 1 || !strings.Contains(got[0], "from=sms to=email reason=unverified") {
				t.Fatalf("code_fallback_skipped audit: %v", got)
			}

			setEmailVerified(t, s, alice, true) // as `user set-second-factor --methods sms,email` would
			g := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
			if !strings.Contains(html.UnescapeString(g.Page.Body), "We couldn't text you, so we emailed the code") {
				t.Fatalf("no fallback to the verified address: %s", g.Page)
			}
			g.SubmitCode(mail.LastCode("alice@example.com")).Code()
		})
	}
}

// With no verified address to fall back to, the user's other verified
// methods are tried, and the page says why the code comes another way.
func TestSecurityFallbackToAnotherVerifiedMethod(t *testing.T) {
	s, tw, mail := attackServer(t, testkit.ServerOptions{}, nil)
	alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	setEmailVerified(t, s, alice, false)
	secret := addTOTP(t, s, alice)
	tw.Fail(http.StatusServiceUnavailable)
	f := s.NewRP(t, testkit.ClientOptions{}).Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	if !strings.Contains(html.UnescapeString(f.Page.Body), "We couldn't text you, so enter the 6-digit code from your authenticator app.") {
		t.Fatalf("no move to the authenticator app: %s", f.Page)
	}
	if n := len(mail.Messages()); n != 0 {
		t.Fatalf("%d emails went to an unverified address", n)
	}
	code, err := otp.TOTPCode(secret, s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := f.SubmitCode(code).Exchange(f.Code())
	if err != nil {
		t.Fatal(err)
	}
	if got := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr = %v, want the authenticator app named", got)
	}
}

// setEmailVerified marks the user's email address vouched for or not, as
// an admin's set-second-factor (or a changed address) does.
func setEmailVerified(t *testing.T, s *testkit.Server, userID string, verified bool) {
	t.Helper()
	if err := s.App.Store.UpdateUser(context.Background(), userID, map[string]any{"email_verified": verified}, s.Clock.Now()); err != nil {
		t.Fatal(err)
	}
}

// addTOTP gives a user a verified authenticator app, after their other
// methods, and returns its secret.
func addTOTP(t *testing.T, s *testkit.Server, userID string) string {
	t.Helper()
	secret, err := otp.NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := s.Clock.Now()
	f := &storage.SecondFactor{ID: server.NewID(), UserID: userID, Method: "totp", VerifiedAt: &now, CreatedAt: now.Add(time.Second)}
	f.Secret = s.App.Ring.Seal([]byte(secret), "second_factors.secret:"+f.ID)
	if err := s.App.Store.AddSecondFactor(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	return secret
}
