package e2e

// The sign-in's own safeguards: where a code may go when the chosen
// channel fails, and what the backoff tells whom.

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login"
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
	if err := s.App.Store.UpdateUser(context.Background(), userID, storage.UserUpdate{EmailVerified: &verified}, s.Clock.Now()); err != nil {
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

// The backoff is keyed by the username typed, whether an account has it or
// not, in any letter case: once it holds, the password page says "Too many
// attempts. Try again in N seconds." with Retry-After, alike for an account
// whose count comes from wrong codes and for a name nobody has, and alike
// after each further wait. When it lets the right password through, the
// code it sends is taken at once. At 100 failures a name locks like an
// account, and both answer as a wrong password.
func TestSecurityBackoffByUsername(t *testing.T) {
	s, tw, _ := attackServer(t, testkit.ServerOptions{}, nil)
	alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	try := func(username, password string) *testkit.Page {
		t.Helper()
		return app.Start(s.NewBrowser(t), nil).Password(username, password).Page
	}

	// alice knows her password and types five wrong codes; "nobody" (no
	// such account) gets five wrong passwords.
	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	for range 5 {
		f.SubmitCode(wrongCode(tw.LastCode(alicePhone)))
	}
	for i := range 5 {
		if p := try("nobody", "guess"); p.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d for an unknown name: %s", i+1, p)
		}
	}
	texts := len(tw.Messages())
	held := try("alice", "alice-password")
	sameBackoffAnswer(t, held, "alice", try("alice", "not-the-password"), "alice", 30)
	sameBackoffAnswer(t, held, "alice", try("NoBody", "guess"), "NoBody", 30)
	if len(tw.Messages()) != texts {
		t.Fatal("a code was sent during the backoff")
	}

	// After the wait one attempt goes; a wrong one doubles the wait, alike.
	s.Clock.Advance(31 * time.Second)
	wrong := try("alice", "wrong")
	if wrong.Status != http.StatusUnauthorized || !strings.Contains(wrong.Body, "Wrong username or password.") {
		t.Fatalf("a wrong password after the wait: %s", wrong)
	}
	sameAnswer(t, wrong, "alice", try("nobody", "wrong"), "nobody")
	sameBackoffAnswer(t, try("alice", "alice-password"), "alice", try("nobody", "guess"), "nobody", 60)
	if got := failures(t, s, alice); got != 6 {
		t.Fatalf("alice's failures = %d, want 6", got)
	}

	// After that wait the right password goes through, and the code it
	// sent is taken at once: the code step does not refuse what the
	// password step let through.
	s.Clock.Advance(61 * time.Second)
	g := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	g.SubmitCode(tw.LastCode(alicePhone)).Code()
	if got := failures(t, s, alice); got != 0 {
		t.Fatalf("alice's failures after a complete sign-in = %d, want 0", got)
	}

	// Locked at 100, an account and a name answer as a wrong password, at
	// once and without Retry-After, even to the right password.
	for i := range 100 {
		s.Clock.Advance(16 * time.Minute) // past every wait
		for _, name := range []string{"alice", "nobody"} {
			if p := try(name, fmt.Sprintf("guess-%d", i)); p.Status != http.StatusUnauthorized {
				t.Fatalf("failure %d of %s: %s", i+1, name, p)
			}
		}
	}
	locked := try("alice", "alice-password")
	samePasswordAnswer(t, locked, try("alice", "not-the-password"))
	sameAnswer(t, locked, "alice", try("nobody", "guess"), "nobody")
}

// A code is never sent that the next step would refuse: during a backoff
// "Send a new code" and a step-up in a live session send nothing and say
// how long to wait; after it, the code sent is taken at once.
func TestSecurityNoCodeSentDuringBackoff(t *testing.T) {
	s, tw, _ := attackServer(t, testkit.ServerOptions{}, nil)
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	f := app.Start(b, nil).Password("alice", "alice-password")
	for range 5 {
		f.SubmitCode(wrongCode(tw.LastCode(alicePhone)))
	}
	s.Clock.Advance(31 * time.Second) // the backoff and the resend cooldown are over
	f.PostCodeForm("/login/code/resend", nil).SubmitCode(wrongCode(tw.LastCode(alicePhone)))
	s.Clock.Advance(31 * time.Second) // the cooldown is over, the 60 s backoff is not
	texts := len(tw.Messages())
	f.PostCodeForm("/login/code/resend", nil)
	if f.Page.Status != http.StatusTooManyRequests || f.Page.Header.Get("Retry-After") != "29" ||
		!strings.Contains(f.Page.Body, "Try again in 29 seconds") {
		t.Fatalf("a resend during the backoff: %s", f.Page)
	}
	if len(tw.Messages()) != texts {
		t.Fatal("a code was sent during the backoff")
	}
	s.Clock.Advance(30 * time.Second)
	f.PostCodeForm("/login/code/resend", nil).SubmitCode(tw.LastCode(alicePhone)).Code()

	// Half a day on, a step-up asks for a new code in the live session;
	// an attacker's wrong passwords meanwhile put the account in backoff.
	s.Clock.Advance(login.MFAFreshness + time.Minute)
	for i := range 5 {
		app.Start(fromIP(s.NewBrowser(t), attackerIP), nil).Password("alice", fmt.Sprintf("guess-%d", i))
	}
	texts = len(tw.Messages())
	g := app.Start(b, testkit.AuthParams{"acr_values": "urn:twofold:acr:2fa"})
	if g.Page.Status != http.StatusTooManyRequests || g.Page.Header.Get("Retry-After") != "30" || len(tw.Messages()) != texts {
		t.Fatalf("a step-up during the backoff (%d codes sent): %s", len(tw.Messages())-texts, g.Page)
	}
	s.Clock.Advance(31 * time.Second)
	g = app.Start(b, testkit.AuthParams{"acr_values": "urn:twofold:acr:2fa"})
	g.SubmitCode(tw.LastCode(alicePhone)).Code()
}

// sameAnswer asserts that two password-step answers cannot be told apart
// but by the username each typed: status, Retry-After, and the body with
// the hidden request id and the username blanked.
func sameAnswer(t *testing.T, a *testkit.Page, userA string, b *testkit.Page, userB string) {
	t.Helper()
	blank := func(body, user string) string {
		return strings.ReplaceAll(withoutRequestID(body), `value="`+user+`"`, `value=""`)
	}
	if a.Status != b.Status || a.Header.Get("Retry-After") != b.Header.Get("Retry-After") || blank(a.Body, userA) != blank(b.Body, userB) {
		t.Fatalf("the answers to %q and %q differ (Retry-After %q, %q):\n%s\n---\n%s",
			userA, userB, a.Header.Get("Retry-After"), b.Header.Get("Retry-After"), a, b)
	}
}

// sameBackoffAnswer asserts that both answers say to wait secs seconds, in
// the page and in Retry-After, and cannot be told apart otherwise.
func sameBackoffAnswer(t *testing.T, a *testkit.Page, userA string, b *testkit.Page, userB string, secs int) {
	t.Helper()
	msg := fmt.Sprintf("Too many attempts. Try again in %d seconds.", secs)
	if a.Status != http.StatusTooManyRequests || a.Header.Get("Retry-After") != fmt.Sprint(secs) || !strings.Contains(a.Body, msg) {
		t.Fatalf("the password page for %q during the backoff, want %q: %s", userA, msg, a)
	}
	sameAnswer(t, a, userA, b, userB)
}
