package e2e

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/storage"
)

const alicePhone = "+14155550123"

// codeServer is a server whose codes go through the fake Twilio API and the
// SMTP sink, with the real clients.
func codeServer(t *testing.T, o testkit.ServerOptions) (*testkit.Server, *testkit.FakeTwilio, *testkit.SMTPSink) {
	tw, mail := testkit.NewTwilio(t), testkit.NewSMTPSink(t)
	o.Twilio, o.SMTP = tw, mail
	return testkit.NewServer(t, o), tw, mail
}

func TestSecondFactorByChannel(t *testing.T) {
	for _, tc := range []struct {
		method  string
		amr     string
		notice  string
		codeOf  func(tw *testkit.FakeTwilio, mail *testkit.SMTPSink) string
		wantMsg func(t *testing.T, tw *testkit.FakeTwilio, mail *testkit.SMTPSink)
	}{
		{method: "sms", amr: "sms", notice: "We sent a 6-digit code to +1\u00a0•••\u00a0•••\u00a0••\u00a023",
			codeOf: func(tw *testkit.FakeTwilio, _ *testkit.SMTPSink) string { return tw.LastCode(alicePhone) },
			wantMsg: func(t *testing.T, tw *testkit.FakeTwilio, _ *testkit.SMTPSink) {
				msgs := tw.Messages()
				if len(msgs) != 1 || msgs[0].From != testkit.TwilioFrom || msgs[0].To != alicePhone {
					t.Fatalf("messages: %+v", msgs)
				}
				lines := strings.Split(strings.TrimSpace(msgs[0].Body), "\n")
				if last := lines[len(lines)-1]; !strings.HasPrefix(last, "@127.0.0.1:") || !strings.Contains(last, " #") {
					t.Errorf("SMS lacks the origin-bound last line: %q", msgs[0].Body)
				}
			}},
		{method: "voice", amr: "tel", notice: "We are calling +1\u00a0•••\u00a0•••\u00a0••\u00a023",
			codeOf: func(tw *testkit.FakeTwilio, _ *testkit.SMTPSink) string { return tw.LastCode(alicePhone) },
			wantMsg: func(t *testing.T, tw *testkit.FakeTwilio, _ *testkit.SMTPSink) {
				if calls := tw.Calls(); len(calls) != 1 || !strings.Contains(calls[0].Twiml, "<Say") {
					t.Fatalf("calls: %+v", calls)
				}
			}},
		{method: "email", amr: "email", notice: "We emailed a 6-digit code to a•••@example.com",
			codeOf: func(_ *testkit.FakeTwilio, mail *testkit.SMTPSink) string { return mail.LastCode("alice@example.com") },
			wantMsg: func(t *testing.T, _ *testkit.FakeTwilio, mail *testkit.SMTPSink) {
				msgs := mail.Messages()
				if len(msgs) != 1 || msgs[0].HTMLBody == "" || msgs[0].TextBody == "" {
					t.Fatalf("mail: %+v", msgs)
				}
			}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			databases(t, func(t *testing.T, o testkit.ServerOptions) {
				s, tw, mail := codeServer(t, o)
				s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{tc.method}})
				app := s.NewRP(t, testkit.ClientOptions{})
				f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
				if !strings.Contains(html.UnescapeString(f.Page.Body), tc.notice) {
					t.Fatalf("code page lacks %q: %s", tc.notice, f.Page)
				}
				for _, attr := range []string{`autocomplete="one-time-code"`, `inputmode="numeric"`} {
					if !strings.Contains(f.Page.Body, attr) {
						t.Errorf("code field lacks %s", attr)
					}
				}
				tc.wantMsg(t, tw, mail)
				tokens, err := f.SubmitCode(tc.codeOf(tw, mail)).Exchange(f.Code())
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"pwd", tc.amr, "mfa"}
				if got := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(got, want) {
					t.Errorf("amr = %v, want %v", got, want)
				}
				if got := tokens.IDTokenClaims.AuthenticationContextClassReference; got != login.ACRTwoFactor {
					t.Errorf("acr = %q", got)
				}
			})
		})
	}
}

func TestPasswordOnlyUserIsNotAskedForACode(t *testing.T) {
	s, tw, mail := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "bob", Password: "bob-password", Phone: alicePhone})
	tokens := s.NewRP(t, testkit.ClientOptions{}).Login(s.NewBrowser(t), "bob", "bob-password")
	if got := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(got, []string{"pwd"}) {
		t.Errorf("amr = %v", got)
	}
	if len(tw.Messages())+len(tw.Calls())+len(mail.Messages()) != 0 {
		t.Error("a code was sent to a password-only user")
	}
}

func TestSMSFailureFallsBackToEmail(t *testing.T) {
	for name, breakTwilio := range map[string]func(*testkit.FakeTwilio){
		"500":  func(tw *testkit.FakeTwilio) { tw.Fail(http.StatusInternalServerError) },
		"hang": func(tw *testkit.FakeTwilio) { tw.Hang(10 * time.Second) },
	} {
		t.Run(name, func(t *testing.T) {
			s, tw, mail := codeServer(t, testkit.ServerOptions{Configure: func(c *configT) { c.Twilio.Timeout = configDuration(300 * time.Millisecond) }})
			s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
			breakTwilio(tw)
			app := s.NewRP(t, testkit.ClientOptions{})
			f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
			if !strings.Contains(html.UnescapeString(f.Page.Body), "We couldn't text you, so we emailed the code to a•••@example.com") {
				t.Fatalf("no fallback notice: %s", f.Page)
			}
			tokens, err := f.SubmitCode(mail.LastCode("alice@example.com")).Exchange(f.Code())
			if err != nil {
				t.Fatal(err)
			}
			if got := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(got, []string{"pwd", "email", "mfa"}) {
				t.Errorf("amr after fallback = %v, want email named", got)
			}
		})
	}
}

func TestNoChannelWorksIssuesNothing(t *testing.T) {
	s, tw, mail := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	tw.Fail(http.StatusServiceUnavailable)
	mail.Fail(554)
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	f := app.Start(b, nil)
	id := f.Page.Field("authRequestID")
	f.Password("alice", "alice-password")
	if f.Page.Status != http.StatusServiceUnavailable || !strings.Contains(html.UnescapeString(f.Page.Body), "couldn't send you a code") {
		t.Fatalf("no clear error: %s", f.Page)
	}
	if p := b.Get("/authorize/callback?id=" + url.QueryEscape(id)); p.Location != "" && strings.Contains(p.Location, "code=") {
		t.Fatalf("a code was issued without a second factor: %s", p)
	}
}

func TestWrongCodesUntilAttemptsRunOut(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s, tw, _ := codeServer(t, o)
		s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
		f := s.NewRP(t, testkit.ClientOptions{}).Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		right := tw.LastCode(alicePhone)
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}
		for left := 4; left >= 1; left-- {
			f.SubmitCode(wrong)
			want := "That code is not right. " + map[bool]string{true: "1 attempt left.", false: strings.TrimSpace(string(rune('0'+left))) + " attempts left."}[left == 1]
			if f.Page.Status != http.StatusUnauthorized || !strings.Contains(f.Page.Body, want) {
				t.Fatalf("attempt with %d left: want %q in %s", left, want, f.Page)
			}
		}
		f.SubmitCode(wrong)
		if !strings.Contains(f.Page.Body, "it was the last attempt") {
			t.Fatalf("fifth wrong code: %s", f.Page)
		}
		s.Clock.Advance(31 * time.Second) // past the account's backoff: only the code's own limit is left
		f.SubmitCode(right)
		if !strings.Contains(f.Page.Body, "Too many wrong codes. Send a new code.") {
			t.Fatalf("right code after the attempts ran out was not refused: %s", f.Page)
		}
	})
}

func TestCodeExpiresWithTheClock(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	f := s.NewRP(t, testkit.ClientOptions{}).Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	s.Clock.Advance(5*time.Minute + time.Second)
	f.SubmitCode(tw.LastCode(alicePhone))
	if !strings.Contains(f.Page.Body, "This code has expired") {
		t.Fatalf("expired code: %s", f.Page)
	}
}

func TestCodeOfAnotherLoginIsRefused(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	a := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	codeA := tw.LastCode(alicePhone)
	b := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	codeB := tw.LastCode(alicePhone)
	if codeA == codeB {
		t.Skip("the two random codes collided")
	}
	b.SubmitCode(codeA)
	if b.Page.Status != http.StatusUnauthorized {
		t.Fatalf("login B accepted login A's code: %s", b.Page)
	}
	// Another authorization request in the same browser gets its own code too.
	a2 := app.Start(a.B, nil).Password("alice", "alice-password")
	a2.SubmitCode(codeA)
	if a2.Page.Status != http.StatusUnauthorized {
		t.Fatalf("a new request in the same browser accepted the old code: %s", a2.Page)
	}
}

func TestResendCooldownAndCap(t *testing.T) {
	s, tw, mail := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms", "email"}})
	f := s.NewRP(t, testkit.ClientOptions{}).Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	if !strings.Contains(f.Page.Body, `id="resend" disabled`) {
		t.Fatalf("resend button not disabled during the cooldown: %s", f.Page)
	}
	first := tw.LastCode(alicePhone)
	f.PostCodeForm("/login/code/resend", nil)
	if f.Page.Status != http.StatusTooManyRequests || len(tw.Messages()) != 1 {
		t.Fatalf("resend inside the cooldown: %s (%d texts)", f.Page, len(tw.Messages()))
	}
	s.Clock.Advance(31 * time.Second)
	f.PostCodeForm("/login/code/resend", nil)
	if len(tw.Messages()) != 2 {
		t.Fatalf("resend after the cooldown sent %d texts", len(tw.Messages()))
	}
	f.SubmitCode(first)
	if f.Page.Status != http.StatusUnauthorized {
		t.Fatal("the replaced code still works")
	}
	// "Use another method": email.
	s.Clock.Advance(31 * time.Second)
	f.PostCodeForm("/login/code/method", url.Values{"method": {"email"}})
	if !strings.Contains(f.Page.Body, "We emailed") {
		t.Fatalf("switching to email: %s", f.Page)
	}
	emailed := mail.LastCode("alice@example.com")
	s.Clock.Advance(31 * time.Second)
	f.PostCodeForm("/login/code/resend", nil) // the fourth send: the last one allowed
	s.Clock.Advance(31 * time.Second)
	f.PostCodeForm("/login/code/resend", nil)
	if f.Page.Status != http.StatusTooManyRequests {
		t.Fatalf("fifth send in one sign-in allowed: %s", f.Page)
	}
	_ = emailed
}

// A method that could not deliver sends no code, so it does not count
// against otp.max_resends: when the preferred method (email, its server
// refusing) gives way to the next (SMS), the sign-in still has its three
// resends.
func TestUndeliveredCodeDoesNotCountAgainstResends(t *testing.T) {
	s, tw, mail := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"email", "sms"}})
	mail.Fail(554)
	f := s.NewRP(t, testkit.ClientOptions{}).Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	if !strings.Contains(html.UnescapeString(f.Page.Body), "We couldn't email you, so we sent the code to +1") {
		t.Fatalf("no move to SMS: %s", f.Page)
	}
	id := f.Page.Field("authRequestID")
	for i := range 3 {
		s.Clock.Advance(31 * time.Second)
		f.PostCodeForm("/login/code/resend", nil)
		if f.Page.Status != http.StatusOK || len(tw.Messages()) != i+2 {
			t.Fatalf("resend %d after an undelivered email (%d texts): %s", i+1, len(tw.Messages()), f.Page)
		}
	}
	s.Clock.Advance(31 * time.Second)
	if f.PostCodeForm("/login/code/resend", nil); f.Page.Status != http.StatusTooManyRequests {
		t.Fatalf("a fourth resend: %s", f.Page)
	}
	f.Page = f.B.Get("/login/code?authRequestID=" + url.QueryEscape(id))
	f.SubmitCode(tw.LastCode(alicePhone)).Code()
}

func TestSSOSessionWithoutSecondFactorIsNotReusedAfterEnrolment(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	id := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	app.Login(b, "alice", "alice-password")
	enrol(t, s, id, "sms")
	// The session vouches for the password; the code is still asked.
	f := app.Start(b, nil)
	if !strings.Contains(f.Page.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("a password-only session satisfied a user who now has a second factor: %s", f.Page)
	}
	f.SubmitCode(tw.LastCode(alicePhone)).Code()
	app.Start(b, nil).Code() // a session with mfa is reused
}

func TestNoSecretReachesTheLogsOrAuditRows(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{Configure: func(c *configT) { c.Log.Level = "debug" }})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-secret-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := s.NewBrowser(t)
	f := app.Start(b, nil).Password("alice", "alice-secret-password")
	sms := tw.LastCode(alicePhone)
	f.SubmitCode("000000") // a wrong guess is logged and audited too
	code := f.SubmitCode(sms).Code()
	tokens, err := f.Exchange(code)
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.App.Store.AuditEvents(context.Background(), storage.AuditFilter{Limit: 1000})
	if err != nil || len(events) < 4 {
		t.Fatalf("audit events: %d, %v", len(events), err)
	}
	var audit strings.Builder
	for _, e := range events {
		fmt.Fprintf(&audit, "%+v\n", e)
	}
	secrets := map[string]string{"password": "alice-secret-password", "sms code": sms, "auth code": code,
		"access token": tokens.AccessToken, "refresh token": tokens.RefreshToken, "id token": tokens.IDToken,
		"client secret": app.Secret}
	for where, text := range map[string]string{"log": s.Log.String(), "audit": audit.String()} {
		for name, secret := range secrets {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("the %s contains the %s", where, name)
			}
		}
	}
	if !strings.Contains(audit.String(), "provider_id=SM") {
		t.Errorf("code_sent audit lacks Twilio's message SID:\n%s", audit.String())
	}
}
