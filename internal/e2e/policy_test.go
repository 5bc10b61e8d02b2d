package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/storage"
)

func putPolicy(t *testing.T, s *testkit.Server, p storage.Policy) {
	t.Helper()
	now := s.Clock.Now()
	p.ID, p.CreatedAt, p.UpdatedAt = server.NewID(), now, now
	if err := s.App.Store.PutPolicy(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
}

func seconds(d time.Duration) *int64 { v := int64(d / time.Second); return &v }

func TestClientPolicyRequiresSecondFactor(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s, tw, _ := codeServer(t, o)
		// alice has SMS but her own policy says optional; payroll requires a factor.
		alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
		putPolicy(t, s, storage.Policy{Scope: storage.ScopeUser, TargetID: alice, SecondFactor: "off"})
		wiki := s.NewRP(t, testkit.ClientOptions{Name: "Wiki"})
		payroll := s.NewRP(t, testkit.ClientOptions{Name: "Payroll", RedirectURIs: []string{"https://payroll.example/cb"}})
		putPolicy(t, s, storage.Policy{Scope: storage.ScopeClient, TargetID: payroll.ID, SecondFactor: "required"})

		b := s.NewBrowser(t)
		// "off" at the user level cannot loosen the global "optional": she still gets a code at the wiki.
		f := wiki.Start(b, nil).Password("alice", "alice-password")
		if !strings.Contains(f.Page.Body, `autocomplete="one-time-code"`) {
			t.Fatalf("user-level off loosened the policy: %s", f.Page)
		}
		// A password-only user meets payroll's requirement and must enrol first.
		s.CreateUser(t, "bob", "bob-password")
		p := payroll.Start(s.NewBrowser(t), nil).Password("bob", "bob-password").Page
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "This application requires a second factor") {
			t.Fatalf("bob without a factor at payroll: %s", p)
		}
		// With no method the policy allows, he is refused with a clear page.
		putPolicy(t, s, storage.Policy{Scope: storage.ScopeClient, TargetID: payroll.ID, SecondFactor: "required", AllowedMethods: storage.MethodList{"voice"}})
		p = payroll.Start(s.NewBrowser(t), nil).Password("bob", "bob-password").Page
		if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "requires a second factor") {
			t.Fatalf("bob with no allowed method at payroll: %s", p)
		}
		// An API account is exempt.
		id := s.CreateUser(t, "ci-bot", "ci-bot-password")
		if err := s.App.Store.UpdateUser(context.Background(), id, storage.UserUpdate{APIAccount: new(true)}, s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		tokens := payroll.Login(s.NewBrowser(t), "ci-bot", "ci-bot-password")
		if !slices.Equal(tokens.IDTokenClaims.AuthenticationMethodsReferences, []string{"pwd"}) {
			t.Fatalf("API account amr = %v", tokens.IDTokenClaims.AuthenticationMethodsReferences)
		}
		_ = tw
	})
}

func TestStepUpInsidePasswordOnlySession(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	// The global policy turns the second factor off: a password-only session.
	putPolicy(t, s, storage.Policy{Scope: storage.ScopeGlobal, SecondFactor: "off"})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	first := app.Login(b, "alice", "alice-password")
	if first.IDTokenClaims.AuthenticationContextClassReference != login.ACRPassword {
		t.Fatalf("acr = %q", first.IDTokenClaims.AuthenticationContextClassReference)
	}
	// acr_values for two factors: a code, but no password (the session vouches for it).
	f := app.Start(b, testkit.AuthParams{"acr_values": login.ACRTwoFactor})
	if !strings.Contains(f.Page.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("no step-up: %s", f.Page)
	}
	tokens, err := f.SubmitCode(tw.LastCode(alicePhone)).Exchange(f.Code())
	if err != nil {
		t.Fatal(err)
	}
	if tokens.IDTokenClaims.AuthenticationContextClassReference != login.ACRTwoFactor || !slices.Contains(tokens.IDTokenClaims.AuthenticationMethodsReferences, "mfa") {
		t.Fatalf("after step-up: acr %q amr %v", tokens.IDTokenClaims.AuthenticationContextClassReference, tokens.IDTokenClaims.AuthenticationMethodsReferences)
	}
	// Fresh for 12 hours: no new code; after that, a new one.
	app.Start(b, testkit.AuthParams{"acr_values": login.ACRTwoFactor}).Code()
	s.Clock.Advance(login.MFAFreshness + time.Minute)
	if f := app.Start(b, testkit.AuthParams{"acr_values": login.ACRTwoFactor}); !strings.Contains(f.Page.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("a 12-hour-old second factor satisfied acr_values: %s", f.Page)
	}
	// prompt=none cannot step up: the client hears interaction_required,
	// and no code goes out.
	sent := len(tw.Messages())
	if q := app.Start(b, testkit.AuthParams{"acr_values": login.ACRTwoFactor, "prompt": "none"}).Callback(); q.Get("error") != "interaction_required" {
		t.Fatalf("prompt=none step-up: %v", q)
	}
	if len(tw.Messages()) != sent {
		t.Fatalf("prompt=none step-up sent a code")
	}
	app.Start(b, nil).Code() // the session itself lives on
}

func TestSessionLifetimeAndIdleTimeoutFromPolicy(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	alice := s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	putPolicy(t, s, storage.Policy{Scope: storage.ScopeUser, TargetID: alice, SessionLifetimeSeconds: seconds(8 * time.Hour), IdleTimeoutSeconds: seconds(time.Hour)})
	b := s.NewBrowser(t)
	app.Login(b, "alice", "alice-password")
	s.Clock.Advance(50 * time.Minute)
	app.Start(b, nil).Code() // used within the idle timeout: refreshed
	s.Clock.Advance(61 * time.Minute)
	if f := app.Start(b, nil); f.Page.Field("authRequestID") == "" {
		t.Fatalf("session idle for 61 minutes still used: %s", f.Page)
	}
	b2 := s.NewBrowser(t)
	app.Login(b2, "alice", "alice-password")
	for i := 0; i < 8; i++ { // stay active, but past the 8-hour lifetime
		s.Clock.Advance(59 * time.Minute)
		app.Start(b2, nil).Code()
	}
	s.Clock.Advance(10 * time.Minute)
	if f := app.Start(b2, nil); f.Page.Field("authRequestID") == "" {
		t.Fatalf("session past the policy's 8-hour lifetime still used: %s", f.Page)
	}
}

func TestPolicyChangeHoldsOnTheNextRequest(t *testing.T) {
	s, _, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	putPolicy(t, s, storage.Policy{Scope: storage.ScopeGlobal, SecondFactor: "off"})
	app.Login(s.NewBrowser(t), "alice", "alice-password") // no code asked
	putPolicy(t, s, storage.Policy{Scope: storage.ScopeClient, TargetID: app.ID, SecondFactor: "required"})
	if f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password"); !strings.Contains(f.Page.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("the policy change did not hold at once: %s", f.Page)
	}
}

func TestRememberedDeviceSkipsTheCodeWithinThePolicyWindow(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	putPolicy(t, s, storage.Policy{Scope: storage.ScopeGlobal, RememberDeviceSeconds: seconds(7 * 24 * time.Hour)}) // loosening: only the global level can turn it on
	_ = alice
	b := s.NewBrowser(t)
	f := app.Start(b, nil).Password("alice", "alice-password")
	f.SubmitCode(tw.LastCode(alicePhone)).Code()
	sent := len(tw.Messages())

	// A new sign-in on this browser (prompt=login: password again) skips the code.
	s.Clock.Advance(24 * time.Hour)
	f = app.Start(b, testkit.AuthParams{"prompt": "login"}).Password("alice", "alice-password")
	tokens, err := f.Exchange(f.Code())
	if err != nil {
		t.Fatal(err)
	}
	if got := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(got, []string{"pwd", "mfa"}) {
		t.Fatalf("amr with a remembered device = %v", got)
	}
	if len(tw.Messages()) != sent {
		t.Fatal("a code was sent to a remembered device")
	}
	// Another browser is not remembered; an explicit acr_values request asks anyway.
	if f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password"); !strings.Contains(f.Page.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("another browser skipped the code: %s", f.Page)
	}
	if f := app.Start(b, testkit.AuthParams{"prompt": "login", "acr_values": login.ACRTwoFactor}).Password("alice", "alice-password"); !strings.Contains(f.Page.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("acr_values for two factors skipped the code: %s", f.Page)
	}
	// Past the window (or once the policy shortens it), the code is asked again.
	s.Clock.Advance(7 * 24 * time.Hour)
	if f := app.Start(b, testkit.AuthParams{"prompt": "login"}).Password("alice", "alice-password"); !strings.Contains(f.Page.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("remembered past the window: %s", f.Page)
	}
}
