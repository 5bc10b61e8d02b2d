package e2e

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/storage"
)

var (
	secretRE   = regexp.MustCompile(`<code id="secret">([A-Z2-7 ]+)</code>`)
	recoveryRE = regexp.MustCompile(`(?s)<pre id="recovery-codes">(.*?)</pre>`)
	continueRE = regexp.MustCompile(`<a href="([^"]+)" id="continue">`)
)

// requireFactorFor makes a client require a second factor.
func requireFactorFor(t *testing.T, s *testkit.Server, clientID string) {
	putPolicy(t, s, storage.Policy{Scope: storage.ScopeClient, TargetID: clientID, SecondFactor: "required"})
}

// enrolTOTP walks a forced enrolment from the choice page and returns the
// secret and the recovery codes; f ends on the client's redirect.
func enrolTOTP(t *testing.T, s *testkit.Server, f *testkit.Flow) (string, []string) {
	t.Helper()
	if !strings.Contains(f.Page.Body, `id="enrol-totp"`) {
		t.Fatalf("not on the enrolment choice: %s", f.Page)
	}
	id := f.Page.Field("authRequestID")
	if id == "" { // the choice page has links, not a form
		id = regexp.MustCompile(`authRequestID=([A-Za-z0-9_-]+)`).FindStringSubmatch(f.Page.Body)[1]
	}
	page := f.B.Get("/login/enrol/totp?authRequestID=" + id)
	m := secretRE.FindStringSubmatch(page.Body)
	if m == nil || !strings.Contains(page.Body, `src="data:image/png;base64,`) {
		t.Fatalf("no QR code and secret: %s", page)
	}
	if !strings.Contains(page.Body, `href="/login/enrol?authRequestID=`+id+`"`) {
		t.Errorf("the enrolment page has no way back to the choice of methods")
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	wrong := f.B.Post("/login/enrol/totp", url.Values{"authRequestID": {id}, "code": {"000000"}})
	if wrong.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong code enrolled the app: %s", wrong)
	}
	code, _ := otp.TOTPCode(secret, s.Clock.Now())
	page = f.B.Post("/login/enrol/totp", url.Values{"authRequestID": {id}, "code": {code}})
	rm := recoveryRE.FindStringSubmatch(page.Body)
	cm := continueRE.FindStringSubmatch(page.Body)
	if rm == nil || cm == nil {
		t.Fatalf("no recovery codes after the first factor: %s", page)
	}
	codes := strings.Fields(rm[1])
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	f.Page = f.B.Get(html.UnescapeString(cm[1]))
	return secret, codes
}

func TestForcedTOTPEnrolmentThenTOTPSignIn(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		requireFactorFor(t, s, app.ID)
		f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		secret, _ := enrolTOTP(t, s, f)
		tokens, err := f.Exchange(f.Code())
		if err != nil {
			t.Fatal(err)
		}
		if got := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
			t.Fatalf("amr after enrolment = %v", got)
		}
		// Next sign-in: the app's code. The code that enrolled cannot be replayed.
		f = app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		if !strings.Contains(f.Page.Body, "from your authenticator app") {
			t.Fatalf("not asked for the app's code: %s", f.Page)
		}
		same, _ := otp.TOTPCode(secret, s.Clock.Now())
		if f.SubmitCode(same); f.Page.Status != http.StatusUnauthorized {
			t.Fatalf("replayed TOTP code accepted: %s", f.Page)
		}
		s.Clock.Advance(30 * time.Second)
		next, _ := otp.TOTPCode(secret, s.Clock.Now())
		tokens, err = f.SubmitCode(next).Exchange(f.Code())
		if err != nil {
			t.Fatal(err)
		}
		if got := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
			t.Fatalf("amr = %v", got)
		}
		// One step of drift is accepted (a code from 30 s ago, not used before).
		s.Clock.Advance(90 * time.Second)
		f = app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		late, _ := otp.TOTPCode(secret, s.Clock.Now().Add(-30*time.Second))
		f.SubmitCode(late).Code()
	})
}

func TestRecoveryCodeSignInIsSingleUse(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	requireFactorFor(t, s, app.ID)
	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	_, codes := enrolTOTP(t, s, f)
	f.Code()

	use := func(code string) *testkit.Page {
		f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		if !strings.Contains(f.Page.Body, `id="use-recovery"`) {
			t.Fatalf("no recovery link: %s", f.Page)
		}
		return f.PostCodeForm("/login/recovery", url.Values{"code": {code}}).Page
	}
	p := use(strings.ToUpper(codes[3])) // case and hyphen do not matter
	if !strings.Contains(p.Body, `<strong id="left">9</strong>`) {
		t.Fatalf("recovery code page: %s", p)
	}
	if p := use(codes[3]); p.Status != http.StatusUnauthorized {
		t.Fatalf("recovery code accepted twice: %s", p)
	}
	events, _ := s.App.Store.AuditEvents(context.Background(), storage.AuditFilter{Type: "recovery_code_used"})
	if len(events) != 1 {
		t.Fatalf("%d recovery_code_used events", len(events))
	}
}

func TestPhoneVerifiedBeforeSMSEnrolment(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	alice := s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	b, f, id := startEnrolment(t, s, app, "alice", "alice-password")
	p := b.Post("/login/enrol/phone", url.Values{"authRequestID": {id}, "destination": {"not a number"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad number accepted: %s", p)
	}
	p = b.Post("/login/enrol/phone", url.Values{"authRequestID": {id}, "destination": {"+1 415 555 0123"}})
	msgs := tw.Messages()
	if len(msgs) != 1 || msgs[0].To != alicePhone || !strings.Contains(msgs[0].Body, "verification") {
		t.Fatalf("verification text: %+v", msgs)
	}
	// Unverified, the number is no factor yet.
	if fs, _ := s.App.Store.SecondFactors(context.Background(), alice); len(fs) != 1 || fs[0].VerifiedAt != nil {
		t.Fatalf("factors before verification: %+v", fs)
	}
	if p := b.Post("/login/enrol/phone/verify", url.Values{"authRequestID": {id}, "code": {"000000"}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("wrong verification code: %s", p)
	}
	p = b.Post("/login/enrol/phone/verify", url.Values{"authRequestID": {id}, "code": {tw.LastCode(alicePhone)}})
	cm := continueRE.FindStringSubmatch(p.Body)
	if cm == nil {
		t.Fatalf("no recovery codes / continue: %s", p)
	}
	f.Page = b.Get(html.UnescapeString(cm[1]))
	tokens, err := f.Exchange(f.Code())
	if err != nil {
		t.Fatal(err)
	}
	if got := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(got, []string{"pwd", "sms", "mfa"}) {
		t.Fatalf("amr = %v", got)
	}
	u, _ := s.App.Store.User(context.Background(), alice)
	if u.Phone != alicePhone || !u.PhoneVerified {
		t.Fatalf("phone not recorded as verified: %+v", u)
	}
	// The next sign-in texts a code to the verified number.
	f = app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	f.SubmitCode(tw.LastCode(alicePhone)).Code()
}

func TestAdminResetSendsUserBackToEnrolment(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	alice := s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	requireFactorFor(t, s, app.ID)
	enrolTOTP(t, s, app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password"))
	if err := s.App.Store.ResetSecondFactors(context.Background(), alice); err != nil {
		t.Fatal(err)
	}
	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	if !strings.Contains(f.Page.Body, `id="enrol-totp"`) {
		t.Fatalf("after a reset, no enrolment: %s", f.Page)
	}
	if n, _ := s.App.Store.RecoveryCodesLeft(context.Background(), alice); n != 0 {
		t.Fatalf("%d recovery codes survived the reset", n)
	}
}

func TestAccountNoticesGoToTheVerifiedEmail(t *testing.T) {
	s, _, mail := codeServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	requireFactorFor(t, s, app.ID)
	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	_, codes := enrolTOTP(t, s, f)
	f.Code()
	f = app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	f.PostCodeForm("/login/recovery", url.Values{"code": {codes[0]}})
	var subjects []string
	for _, m := range mail.Messages() {
		if slices.Contains(m.To, "alice@example.com") {
			subjects = append(subjects, m.Subject)
			for _, c := range codes {
				if strings.Contains(m.TextBody+m.HTMLBody, c) {
					t.Errorf("a notice contains a recovery code")
				}
			}
		}
	}
	want := []string{"A sign-in method was added to your account", "A recovery code was used to sign in"}
	if !slices.Equal(subjects, want) {
		t.Fatalf("notices = %q, want %q", subjects, want)
	}
}

// Enrolment codes meet the same sending limits as sign-in codes: the
// enrolment page is no way to pump texts to numbers of one's choosing.
func TestEnrolmentSendsAreLimited(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	b, _, id := startEnrolment(t, s, app, "alice", "alice-password")
	enrol := func(number string) *testkit.Page {
		return b.Post("/login/enrol/phone", url.Values{"authRequestID": {id}, "destination": {number}})
	}
	if p := enrol("+44 20 7946 0958"); p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "that country") {
		t.Fatalf("a number outside the allow-list: %s", p)
	}
	for i := range 5 { // limits.destination_per_10m, each after the resend cooldown
		if p := enrol("+1 415 555 0123"); p.Status != http.StatusOK {
			t.Fatalf("send %d: %s", i+1, p)
		}
		s.Clock.Advance(30 * time.Second)
	}
	p := enrol("+1 415 555 0123")
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" || !strings.Contains(p.Body, "Too many codes") {
		t.Fatalf("sixth code to one number: %s", p)
	}
	if n := len(tw.Messages()); n != 5 {
		t.Fatalf("%d texts sent, want 5", n)
	}
	events, _ := s.App.Store.AuditEvents(context.Background(), storage.AuditFilter{Type: "code_send_refused"})
	if len(events) != 2 {
		t.Fatalf("%d code_send_refused events, want 2", len(events))
	}
}

// Verification codes wait for the resend cooldown of sign-in codes
// (otp.resend_cooldown), per destination: a second post at once sends
// nothing, says why with Retry-After, and keeps the first code good.
func TestEnrolmentResendCooldown(t *testing.T) {
	s, tw, mail := codeServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	b, _, id := startEnrolment(t, s, app, "alice", "alice-password")

	// The email form starts with the address on the account.
	if p := b.Get("/login/enrol/email?authRequestID=" + id); !strings.Contains(p.Body, `value="alice@example.com"`) {
		t.Fatalf("email enrolment form not prefilled: %s", p)
	}
	enrol := func(path, dest string) *testkit.Page {
		return b.Post(path, url.Values{"authRequestID": {id}, "destination": {dest}})
	}
	if p := enrol("/login/enrol/phone", "+1 415 555 0123"); p.Status != http.StatusOK {
		t.Fatalf("first send: %s", p)
	}
	s.Clock.Advance(time.Second)
	p := enrol("/login/enrol/phone", "+14155550123")
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") != "29" ||
		!strings.Contains(p.Body, "wait 29 seconds") || !strings.Contains(p.Body, `action="/login/enrol/phone/verify"`) {
		t.Fatalf("second send a second later: %s (Retry-After %q)", p, p.Header.Get("Retry-After"))
	}
	if n := len(tw.Messages()); n != 1 {
		t.Fatalf("%d texts sent within the cooldown, want 1", n)
	}
	// Email has its own destination: no wait.
	if p := enrol("/login/enrol/email", "alice@example.com"); p.Status != http.StatusOK || len(mail.Messages()) != 1 {
		t.Fatalf("email verification during the phone's cooldown: %s", p)
	}
	if p := enrol("/login/enrol/email", "alice@example.com"); p.Status != http.StatusTooManyRequests || len(mail.Messages()) != 1 {
		t.Fatalf("second email at once: %s", p)
	}
	// After the cooldown a new code goes out, and it is the one that counts.
	s.Clock.Advance(29 * time.Second)
	if p := enrol("/login/enrol/phone", "+14155550123"); p.Status != http.StatusOK || len(tw.Messages()) != 2 {
		t.Fatalf("send after the cooldown: %s", p)
	}
	if p := b.Post("/login/enrol/phone/verify", url.Values{"authRequestID": {id}, "code": {tw.LastCode(alicePhone)}}); continueRE.FindStringSubmatch(p.Body) == nil {
		t.Fatalf("the newest code did not verify: %s", p)
	}
}

// The first code stays good through a refused second send.
func TestEnrolmentCooldownKeepsTheSentCode(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	b, _, id := startEnrolment(t, s, app, "alice", "alice-password")
	form := url.Values{"authRequestID": {id}, "destination": {alicePhone}}
	b.Post("/login/enrol/phone", form)
	if p := b.Post("/login/enrol/phone", form); p.Status != http.StatusTooManyRequests {
		t.Fatalf("second send at once: %s", p)
	}
	if p := b.Post("/login/enrol/phone/verify", url.Values{"authRequestID": {id}, "code": {tw.LastCode(alicePhone)}}); continueRE.FindStringSubmatch(p.Body) == nil {
		t.Fatalf("the code sent before the refused resend does not verify: %s", p)
	}
}

// startEnrolment makes app require a second factor and signs the user, who
// has none, in to it: the browser is on the enrolment choice, whose auth
// request id it returns.
func startEnrolment(t *testing.T, s *testkit.Server, app *testkit.RP, user, password string) (*testkit.Browser, *testkit.Flow, string) {
	t.Helper()
	requireFactorFor(t, s, app.ID)
	b := s.NewBrowser(t)
	f := app.Start(b, nil).Password(user, password)
	m := regexp.MustCompile(`authRequestID=([A-Za-z0-9_-]+)`).FindStringSubmatch(f.Page.Body)
	if m == nil {
		t.Fatalf("not on the enrolment choice: %s", f.Page)
	}
	return b, f, m[1]
}

// A sign-in that is enrolling has sent no code: a code, a recovery code or
// a resend posted for it is a request that cannot be used (400), never a
// server error.
func TestCodeFormsOfASignInWithoutCode(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	requireFactorFor(t, s, app.ID)
	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	id := regexp.MustCompile(`authRequestID=([A-Za-z0-9_-]+)`).FindStringSubmatch(f.Page.Body)
	if !strings.Contains(f.Page.Body, `id="enrol-totp"`) || id == nil {
		t.Fatalf("not on the enrolment choice: %s", f.Page)
	}
	for _, tc := range []struct{ path, code string }{
		{"/login/code", "123456"},
		{"/login/code/resend", ""},
		{"/login/code/method", ""},
		{"/login/recovery", "abcde-fghjk"},
	} {
		p := f.B.Post(tc.path, url.Values{"authRequestID": {id[1]}, "code": {tc.code}, "method": {"sms"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "cannot be used") && !strings.Contains(p.Body, "not available") {
			t.Errorf("POST %s without a code sent: %s", tc.path, p)
		}
	}
}
