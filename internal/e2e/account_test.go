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

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/account"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/storage"
)

// walk follows the provider's redirects from p and returns the page it
// stops at with the paths it went through.
func walk(t *testing.T, s *testkit.Server, b *testkit.Browser, p *testkit.Page) (*testkit.Page, []string) {
	t.Helper()
	var chain []string
	for i := 0; p.Location != "" && i < 12; i++ {
		loc := strings.TrimPrefix(p.Location, s.URL)
		if !strings.HasPrefix(loc, "/") {
			t.Fatalf("redirect out of the provider to %s", p.Location)
		}
		chain = append(chain, loc)
		p = b.Get(loc)
	}
	return p, chain
}

// accountSignIn opens path in b without a session and signs in there with
// the password and, when code is given, the second factor it returns.
func accountSignIn(t *testing.T, s *testkit.Server, b *testkit.Browser, path, username, password string, code func() string) *testkit.Page {
	t.Helper()
	p, _ := walk(t, s, b, b.Get(path))
	id := p.Field("authRequestID")
	if id == "" {
		t.Fatalf("no password form: %s", p)
	}
	p, _ = walk(t, s, b, b.Post("/login/password", url.Values{"authRequestID": {id}, "username": {username}, "password": {password}}))
	if code != nil {
		if !strings.Contains(p.Body, `autocomplete="one-time-code"`) {
			t.Fatalf("no code asked: %s", p)
		}
		p, _ = walk(t, s, b, b.Post("/login/code", url.Values{"authRequestID": {id}, "code": {code()}}))
	}
	return p
}

func onAccountPage(t *testing.T, p *testkit.Page) {
	t.Helper()
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "<h1>Your account</h1>") {
		t.Fatalf("not on the account page: %s", p)
	}
}

func TestAccountPageBehindSignInWithSecondFactor(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s, tw, _ := codeServer(t, o)
		s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
		b := s.NewBrowser(t)
		p, chain := walk(t, s, b, b.Get("/account"))
		want := []string{"/account/login?next=%2Faccount", "/authorize?", "/login?authRequestID="}
		if len(chain) != len(want) {
			t.Fatalf("redirects %v, want prefixes %v", chain, want)
		}
		for i := range want {
			if !strings.HasPrefix(chain[i], want[i]) {
				t.Fatalf("redirect %d = %q, want prefix %q (chain %v)", i, chain[i], want[i], chain)
			}
		}
		authorize, _ := url.Parse(chain[1])
		q := authorize.Query()
		if q.Get("client_id") != account.ClientID || q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != s.URL+"/account/callback" {
			t.Fatalf("authorize request %v", q)
		}
		id := p.Field("authRequestID")
		p = b.Post("/login/password", url.Values{"authRequestID": {id}, "username": {"alice"}, "password": {"alice-password"}})
		p, _ = walk(t, s, b, p)
		if !strings.Contains(p.Body, `autocomplete="one-time-code"`) {
			t.Fatalf("the account page was reached without the second factor: %s", p)
		}
		p, chain = walk(t, s, b, b.Post("/login/code", url.Values{"authRequestID": {id}, "code": {tw.LastCode(alicePhone)}}))
		if n := len(chain); n < 3 || !strings.HasPrefix(chain[n-2], "/account/callback?") || chain[n-1] != "/account" {
			t.Fatalf("after the code: %v", chain)
		}
		onAccountPage(t, p)
		if strings.Contains(s.Log.String(), "account code exchange failed") {
			t.Fatalf("the account client's code was not redeemed:\n%s", s.Log)
		}
		// The callback spent its code: presented at the token endpoint, it
		// is a replay (a live code would be spent as a PKCE failure instead).
		callback, _ := url.Parse(chain[len(chain)-2])
		form := url.Values{"grant_type": {"authorization_code"}, "code": {callback.Query().Get("code")}, "client_id": {account.ClientID},
			"redirect_uri": {s.URL + account.CallbackPath}, "code_verifier": {strings.Repeat("v", 43)}}
		replay := send(t, &http.Client{Transport: s.Transport()}, http.MethodPost, s.URL+"/oauth/token", strings.NewReader(form.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		events, _ := s.App.Store.AuditEvents(context.Background(), storage.AuditFilter{ClientID: account.ClientID, Type: "code_replay"})
		if replay.Status != http.StatusBadRequest || !strings.Contains(replay.Body, "invalid_grant") || len(events) != 1 {
			t.Fatalf("the account's code at the token endpoint = %s, %d code_replay events; want invalid_grant as a replay", replay, len(events))
		}
		for _, want := range []string{`id="username">alice<`, "Text message (SMS)", "+1\u00a0•••\u00a0•••\u00a0••\u00a023", "(preferred)", `id="this-device"`} {
			if !strings.Contains(html.UnescapeString(p.Body), want) {
				t.Errorf("account page lacks %q", want)
			}
		}
		// The callback is done with: replaying it does not sign anyone in.
		if p := b.Get(chain[len(chain)-2]); p.Status != http.StatusBadRequest {
			t.Errorf("replayed callback: %s", p)
		}
		// Twelve hours on, the session lives but the page asks for a new code, not the password.
		s.Clock.Advance(login.MFAFreshness + time.Minute)
		p, _ = walk(t, s, b, b.Get("/account"))
		if !strings.Contains(p.Body, `autocomplete="one-time-code"`) {
			t.Fatalf("stale second factor: want a step-up code page, got %s", p)
		}
		p, _ = walk(t, s, b, b.Post("/login/code", url.Values{"authRequestID": {p.Field("authRequestID")}, "code": {tw.LastCode(alicePhone)}}))
		onAccountPage(t, p)
	})
}

func TestAccountPagePasswordOnlyUserAndEnrolmentReturn(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "bob", "bob-password")
	b := s.NewBrowser(t)
	p := accountSignIn(t, s, b, "/account/methods/add/totp", "bob", "bob-password", nil)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "data:image/png;base64,") {
		t.Fatalf("sign-in from the enrolment page did not return there: %s", p)
	}
	if !strings.Contains(p.Body, `href="/account"`) || !strings.Contains(p.Body, `action="/account/methods/add/totp"`) {
		t.Errorf("the account's enrolment page has no way back to the account, or posts elsewhere")
	}
	p = b.Get("/account")
	onAccountPage(t, p)
	for _, id := range []string{`id="add-totp"`, `id="add-sms"`, `id="add-email"`} {
		if !strings.Contains(p.Body, id) {
			t.Errorf("account page lacks the %s link", id)
		}
	}
	if strings.Contains(p.Body, `action="/account/recovery-codes"`) {
		t.Error("recovery codes offered to a user without a second factor")
	}
	// Signed in, /account/login returns at once, and only to a local account page.
	for next, want := range map[string]string{"/account": "/account", "/account/methods/add/email": "/account/methods/add/email",
		"/login/enrol/email":     "/account",
		"//evil.example/account": "/account", "https://evil.example/": "/account", "/authorize": "/account", `/\evil.example`: "/account"} {
		if p := b.Get("/account/login?next=" + url.QueryEscape(next)); p.Location != want {
			t.Errorf("next=%s: redirected to %q, want %q", next, p.Location, want)
		}
	}
	// Cross-origin form posts are refused.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/account/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: status %d", resp.StatusCode)
	}
}

// "Add" on the account page enrols with the sign-in's own enrolment
// pages, under /account: a phone proven by a code sent to it, then (the
// first method) the recovery codes and back to the account page; an
// authenticator app proven by its code. The account's session is what
// vouches for the user: without it, the pages ask for the sign-in first.
func TestAccountAddMethods(t *testing.T) {
	s, tw, mail := codeServer(t, testkit.ServerOptions{})
	alice := s.CreateUser(t, "alice", "alice-password")
	if p := s.NewBrowser(t).Get("/account/methods/add/phone"); p.Location != "/account/login?next=%2Faccount%2Fmethods%2Fadd%2Fphone" {
		t.Fatalf("the add page without a session: %s", p)
	}
	b := s.NewBrowser(t)
	onAccountPage(t, accountSignIn(t, s, b, "/account", "alice", "alice-password", nil))
	p := b.Get("/account")
	if !strings.Contains(p.Body, `href="/account/methods/add/phone" id="add-sms"`) {
		t.Fatalf("no add link for a phone: %s", p)
	}
	p = b.Get("/account/methods/add/phone")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `action="/account/methods/add/phone"`) || p.Field("authRequestID") != "" {
		t.Fatalf("the phone enrolment page: %s", p)
	}
	p = b.Post("/account/methods/add/phone", url.Values{"destination": {"+1 415 555 0123"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `action="/account/methods/add/phone/verify"`) || len(tw.Messages()) != 1 {
		t.Fatalf("sending the verification code: %s", p)
	}
	if p := b.Post("/account/methods/add/phone/verify", url.Values{"code": {"000000"}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong verification code: %s", p)
	}
	p = b.Post("/account/methods/add/phone/verify", url.Values{"code": {tw.LastCode(alicePhone)}})
	recoveryCodes(t, p)
	if cm := continueRE.FindStringSubmatch(p.Body); cm == nil || cm[1] != "/account" {
		t.Fatalf("the recovery codes do not lead back to the account: %s", p)
	}
	// With a factor now, the account asks for it, as of every user who has one.
	p, _ = walk(t, s, b, b.Get("/account"))
	if !strings.Contains(p.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("the new phone is not asked for: %s", p)
	}
	p, _ = walk(t, s, b, b.Post("/login/code", url.Values{"authRequestID": {p.Field("authRequestID")}, "code": {tw.LastCode(alicePhone)}}))
	onAccountPage(t, p)
	if !strings.Contains(p.Body, `id="method-sms"`) || !strings.Contains(p.Body, "10 recovery codes left") {
		t.Fatalf("the phone is not listed, or no recovery codes: %s", p)
	}

	// The authenticator app: recovery codes exist, so straight back.
	page := b.Get("/account/methods/add/totp")
	m := secretRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no secret: %s", page)
	}
	code, _ := otp.TOTPCode(strings.ReplaceAll(m[1], " ", ""), s.Clock.Now())
	if p := b.Post("/account/methods/add/totp", url.Values{"code": {code}}); p.Location != "/account" {
		t.Fatalf("after the app's code: %s", p)
	}
	factors, err := s.App.Store.SecondFactors(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	verified := 0
	for _, f := range factors {
		if f.VerifiedAt != nil && (f.Method == storage.MethodSMS || f.Method == storage.MethodTOTP) {
			verified++
		}
	}
	if verified != 2 {
		t.Fatalf("factors after adding a phone and an app: %+v", factors)
	}
	if ev, _ := s.App.Store.AuditEvents(context.Background(), storage.AuditFilter{UserID: alice, Type: "second_factor_enrolled"}); len(ev) != 2 {
		t.Errorf("second_factor_enrolled events: %+v", ev)
	}
	var subjects []string
	for _, m := range mail.Messages() {
		subjects = append(subjects, m.Subject)
	}
	if want := []string{"A sign-in method was added to your account", "A sign-in method was added to your account"}; !slices.Equal(subjects, want) {
		t.Errorf("notices = %q, want %q", subjects, want)
	}
	// The sign-in's enrolment pages serve only a sign-in.
	if p := b.Get("/login/enrol/totp"); p.Status != http.StatusBadRequest {
		t.Errorf("/login/enrol/totp outside a sign-in: %s", p)
	}
}

func TestAccountRemoveAndPreferMethods(t *testing.T) {
	s, tw, mail := codeServer(t, testkit.ServerOptions{})
	alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms", "email", "voice"}})
	b := s.NewBrowser(t)
	onAccountPage(t, accountSignIn(t, s, b, "/account", "alice", "alice-password", func() string { return tw.LastCode(alicePhone) }))
	ctx := context.Background()

	p, _ := walk(t, s, b, b.Post("/account/methods/remove", url.Values{"method": {"voice"}}))
	onAccountPage(t, p)
	if !strings.Contains(p.Body, "The method was removed.") || strings.Contains(p.Body, `id="method-voice"`) {
		t.Fatalf("after removing voice: %s", p)
	}
	p, _ = walk(t, s, b, b.Post("/account/methods/preferred", url.Values{"method": {"email"}}))
	onAccountPage(t, p)
	factors, err := s.App.Store.SecondFactors(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(factors) != 2 || factors[0].Method != "email" || !factors[0].Preferred || factors[1].Preferred {
		t.Fatalf("factors after the switch: %+v", factors)
	}
	// The next sign-in uses email first.
	app := s.NewRP(t, testkit.ClientOptions{})
	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	if !strings.Contains(html.UnescapeString(f.Page.Body), "We emailed a 6-digit code to a•••@example.com") {
		t.Fatalf("the preferred method was not used: %s", f.Page)
	}
	if _, err := f.SubmitCode(mail.LastCode("alice@example.com")).Exchange(f.Code()); err != nil {
		t.Fatal(err)
	}

	// Under a policy that requires a factor, the last one stays.
	putPolicy(t, s, storage.Policy{Scope: storage.ScopeGlobal, SecondFactor: "required"})
	walk(t, s, b, b.Post("/account/methods/remove", url.Values{"method": {"sms"}}))
	p = b.Post("/account/methods/remove", url.Values{"method": {"email"}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, "cannot remove your last second factor") || !strings.Contains(p.Body, `role="alert"`) {
		t.Fatalf("last-method removal under a requiring policy: %s", p)
	}
	if factors, _ := s.App.Store.SecondFactors(ctx, alice); len(factors) != 1 || factors[0].Method != "email" {
		t.Fatalf("factors after the refusal: %+v", factors)
	}
	events, err := s.App.Store.AuditEvents(ctx, storage.AuditFilter{UserID: alice, Type: "second_factor_removed"})
	if err != nil || len(events) != 2 || events[0].Actor != "user:"+alice {
		t.Fatalf("audit: %+v %v", events, err)
	}
	// Optional again: the last method can go, and the recovery codes with it.
	putPolicy(t, s, storage.Policy{Scope: storage.ScopeGlobal, SecondFactor: "optional"})
	walk(t, s, b, b.Post("/account/recovery-codes", nil))
	p, _ = walk(t, s, b, b.Post("/account/methods/remove", url.Values{"method": {"email"}}))
	onAccountPage(t, p)
	if left, _ := s.App.Store.RecoveryCodesLeft(ctx, alice); left != 0 {
		t.Errorf("%d recovery codes left without a second factor", left)
	}
}

var sessionFieldRE = regexp.MustCompile(`name="session" value="([0-9a-f]+)"`)

func TestAccountPasswordChangeEndsOtherSessions(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		alice := s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		other := s.NewBrowser(t)
		tokens := app.Login(other, "alice", "alice-password")
		b := s.NewBrowser(t)
		onAccountPage(t, accountSignIn(t, s, b, "/account", "alice", "alice-password", nil))

		p := b.Post("/account/password", url.Values{"current_password": {"wrong-password"}, "new_password": {"a new passphrase"}, "new_password_again": {"a new passphrase"}})
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "That is not your current password.") || !strings.Contains(p.Body, `aria-describedby="current-error"`) {
			t.Fatalf("wrong current password: %s", p)
		}
		p = b.Post("/account/password", url.Values{"current_password": {"alice-password"}, "new_password": {"a new passphrase"}, "new_password_again": {"another one"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "do not match") {
			t.Fatalf("mismatched new passwords: %s", p)
		}
		p = b.Post("/account/password", url.Values{"current_password": {"alice-password"}, "new_password": {"short"}, "new_password_again": {"short"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Your new password must be at least 8 characters.") {
			t.Fatalf("short new password: %s", p)
		}
		// The one password rule counts characters, not bytes: four emoji
		// are 16 bytes but 4 characters.
		emoji := strings.Repeat("\U0001F510", 4)
		p = b.Post("/account/password", url.Values{"current_password": {"alice-password"}, "new_password": {emoji}, "new_password_again": {emoji}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Your new password must be at least 8 characters.") {
			t.Fatalf("four emoji as the new password: %s", p)
		}
		p, _ = walk(t, s, b, b.Post("/account/password", url.Values{"current_password": {"alice-password"}, "new_password": {"a new passphrase"}, "new_password_again": {"a new passphrase"}}))
		onAccountPage(t, p) // this session is kept
		if !strings.Contains(p.Body, "Your password was changed.") || !strings.Contains(p.Body, `id="this-device"`) || sessionFieldRE.MatchString(p.Body) {
			t.Fatalf("after the change: %s", p)
		}
		// The other browser's session and tokens ended.
		if f := app.Start(other, nil); f.Page.Field("authRequestID") == "" {
			t.Fatalf("the other session survived the password change: %s", f.Page)
		}
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), app.Party, tokens.RefreshToken, "", ""); err == nil {
			t.Error("a refresh token survived the password change")
		}
		if f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password"); f.Page.Status != http.StatusUnauthorized {
			t.Fatalf("old password still works: %s", f.Page)
		}
		app.Login(s.NewBrowser(t), "alice", "a new passphrase")
		if ev, _ := s.App.Store.AuditEvents(context.Background(), storage.AuditFilter{UserID: alice, Type: "password_changed"}); len(ev) != 1 || ev[0].Actor != "user:"+alice {
			t.Errorf("audit: %+v", ev)
		}
	})
}

var recoveryCodesRE = regexp.MustCompile(`(?s)<pre id="recovery-codes">(.*?)</pre>`)

func recoveryCodes(t *testing.T, p *testkit.Page) []string {
	t.Helper()
	m := recoveryCodesRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no recovery codes: %s", p)
	}
	codes := strings.Fields(m[1])
	if len(codes) != login.RecoveryCodeCount {
		t.Fatalf("%d codes: %v", len(codes), codes)
	}
	return codes
}

func TestAccountRegenerateRecoveryCodes(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	b := s.NewBrowser(t)
	onAccountPage(t, accountSignIn(t, s, b, "/account", "alice", "alice-password", func() string { return tw.LastCode(alicePhone) }))
	p := b.Post("/account/recovery-codes", nil)
	old := recoveryCodes(t, p)
	if !strings.Contains(p.Body, `href="data:text/plain;charset=utf-8,`) || !strings.Contains(p.Body, `download="`) {
		t.Fatalf("no download link: %s", p)
	}
	fresh := recoveryCodes(t, b.Post("/account/recovery-codes", nil))
	if slices.Contains(fresh, old[0]) {
		t.Fatal("regenerated codes repeat the old set")
	}
	if p := b.Get("/account"); !strings.Contains(p.Body, "10 recovery codes left") {
		t.Errorf("account page count: %s", p)
	}
	// At sign-in, an old code is refused and a new one works once.
	app := s.NewRP(t, testkit.ClientOptions{})
	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	id := f.Page.Field("authRequestID")
	if p := f.B.Post("/login/recovery", url.Values{"authRequestID": {id}, "code": {old[0]}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("a code of the old set was accepted: %s", p)
	}
	if p := f.B.Post("/login/recovery", url.Values{"authRequestID": {id}, "code": {fresh[0]}}); p.Status != http.StatusOK || !strings.Contains(p.Body, "Recovery code accepted") {
		t.Fatalf("a new code was refused: %s", p)
	}
	if ev, _ := s.App.Store.AuditEvents(context.Background(), storage.AuditFilter{UserID: alice, Type: "recovery_codes_regenerated"}); len(ev) != 2 {
		t.Errorf("audit: %+v", ev)
	}
}

func TestAccountSessionsListEndAndSignOut(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		alice := s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{Name: "Wiki", BackchannelLogoutURI: "https://wiki.example/backchannel"})
		other := s.NewBrowser(t)
		app.Login(other, "alice", "alice-password")
		b := s.NewBrowser(t)
		p := accountSignIn(t, s, b, "/account", "alice", "alice-password", nil)
		onAccountPage(t, p)
		ids := sessionFieldRE.FindAllStringSubmatch(p.Body, -1)
		// This device is marked and has no "End" (it has "Sign out"); the other one has.
		if len(ids) != 1 || strings.Count(p.Body, `id="this-device"`) != 1 || !strings.Contains(p.Body, "Wiki") {
			t.Fatalf("sessions list: %s", p)
		}
		otherID := ids[0][1]
		if sess, err := s.App.Store.Session(context.Background(), otherID); err != nil || !sess.Clients.Contains(app.ID) {
			t.Fatalf("the listed session is not the other browser's: %+v %v", sess, err)
		}
		p, _ = walk(t, s, b, b.Post("/account/sessions/end", url.Values{"session": {otherID}}))
		onAccountPage(t, p)
		if sessionFieldRE.MatchString(p.Body) {
			t.Fatalf("ended session still listed: %s", p)
		}
		if f := app.Start(other, nil); f.Page.Field("authRequestID") == "" {
			t.Fatalf("the ended browser was not asked to sign in again: %s", f.Page)
		}
		// The Wiki is told, by back-channel logout.
		ended, _ := s.App.Store.Session(context.Background(), otherID)
		if d, err := s.App.Store.LogoutDeliveries(context.Background(), alice); err != nil || len(d) != 1 || d[0].ClientID != app.ID || ended == nil || d[0].SessionID != ended.SID {
			t.Errorf("logout deliveries: %+v %v", d, err)
		}
		if p := b.Post("/account/sessions/end", url.Values{"session": {otherID}}); p.Status != http.StatusBadRequest {
			t.Errorf("ending an ended session: %s", p)
		}
		// Sign out: the cookie and the session end; /account asks for a sign-in.
		p = b.Post("/account/logout", nil)
		if p.Location != "/logged-out" {
			t.Fatalf("sign out: %s", p)
		}
		if p := b.Get("/account"); !strings.HasPrefix(p.Location, "/account/login") {
			t.Fatalf("after sign out: %s", p)
		}
	})
}

func TestAccountCannotEndAnotherUsersSession(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	s.CreateUser(t, "mallory", "mallory-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	victim := s.NewBrowser(t)
	app.Login(victim, "alice", "alice-password")
	sessions, err := s.App.Store.Sessions(context.Background(), "", s.Clock.Now())
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions: %v %v", sessions, err)
	}
	b := s.NewBrowser(t)
	onAccountPage(t, accountSignIn(t, s, b, "/account", "mallory", "mallory-password", nil))
	if p := b.Post("/account/sessions/end", url.Values{"session": {sessions[0].ID}}); p.Status != http.StatusBadRequest {
		t.Fatalf("ending someone else's session: %s", p)
	}
	app.Start(victim, nil).Code() // alice's session lives on
}
