package e2e

// The security suite attacks a running twofold as an outsider would, over
// HTTPS with a cookie jar, and asserts the outcome. This file covers
// guessing (codes, passwords, per-IP limits, parallel guesses) and sending
// (caps, country allow-list, budgets); security_web_test.go covers the web
// surface, the protocol endpoints, malformed input and the secret grep.
// Other files already prove parts of it and are not repeated here:
// TestWrongCodesUntilAttemptsRunOut, TestResendCooldownAndCap,
// TestPKCERules, TestCodeReplayRevokesTokensAndWrongSecretSpendsNothing,
// TestRefreshRotationAndReuse, TestRevocation,
// TestCallbackOnlyInTheBrowserThatSignedIn, TestWrongRedirectURIRefusedWithoutRedirect.

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/internal/testkit"
)

func TestSecurityCodeBruteForce(t *testing.T) {
	s, tw, _ := attackServer(t, testkit.ServerOptions{}, nil)
	alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	f := s.NewRP(t, testkit.ClientOptions{}).Start(fromIP(s.NewBrowser(t), attackerIP), nil).Password("alice", "alice-password")
	right := tw.LastCode(alicePhone)
	id := f.Page.Field("authRequestID")
	for i := range 5 {
		f.SubmitCode(fmt.Sprintf("%06d", (mustAtoi(t, right)+1+i)%1000000))
		if f.Page.Status != http.StatusUnauthorized || !strings.Contains(f.Page.Body, "That code is not right") {
			t.Fatalf("guess %d: %s", i+1, f.Page)
		}
	}
	// The account now backs off; clear it so that only the code's own
	// attempt limit stands between the attacker and the code.
	ctx := context.Background()
	if err := s.App.Guard().Success(ctx, alice); err != nil {
		t.Fatal(err)
	}
	for _, guess := range []string{"123456", "654321", right} {
		f.SubmitCode(guess)
		if f.Page.Status != http.StatusUnauthorized || !strings.Contains(f.Page.Body, "Too many wrong codes. Send a new code.") {
			t.Fatalf("guess %s after otp.max_attempts: %s", guess, f.Page)
		}
	}
	ch, err := s.App.Store.LatestChallenge(ctx, id)
	if err != nil || ch.Attempts != 5 {
		t.Fatalf("stored attempts = %v (%v), want 5", ch, err)
	}
}

// notRightRE finds what a wrong code's answer says about the attempts left.
var notRightRE = regexp.MustCompile(`That code is not right(?:\. |, and )(\d+ attempts? left|it was the last attempt)`)

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("code %q: %v", s, err)
	}
	return n
}

// Password and code failures count together per account; a new code, a
// new sign-in or another method does not reset them; from the 5th the
// account backs off, and the password page then says to wait, to the right
// password as to a wrong one; the code sent after the wait is taken at
// once; at 100 it locks until unlocked, and the password page answers
// exactly like a wrong password even to the right one.
func TestSecurityAccountBackoffAndLock(t *testing.T) {
	s, tw, mail := attackServer(t, testkit.ServerOptions{}, nil)
	alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms", "email"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	ctx := context.Background()
	want := func(n int) {
		t.Helper()
		if got := failures(t, s, alice); got != n {
			t.Fatalf("failures = %d, want %d", got, n)
		}
	}

	f := app.Start(s.NewBrowser(t), nil).Password("alice", "wrong-1").Password("alice", "wrong-2")
	want(2)
	f.Password("alice", "alice-password") // a right password resets nothing: a code is still due
	f.SubmitCode(wrongCode(tw.LastCode(alicePhone)))
	want(3)
	s.Clock.Advance(31 * time.Second)
	f.PostCodeForm("/login/code/resend", nil).SubmitCode(wrongCode(tw.LastCode(alicePhone)))
	want(4)
	s.Clock.Advance(31 * time.Second)
	f.PostCodeForm("/login/code/method", url.Values{"method": {"email"}}).SubmitCode(wrongCode(mail.LastCode("alice@example.com")))
	want(5)

	// Backoff: the right code waits, and says so to whoever knew the password.
	f.SubmitCode(mail.LastCode("alice@example.com"))
	if f.Page.Status != http.StatusTooManyRequests || f.Page.Header.Get("Retry-After") == "" || !strings.Contains(f.Page.Body, "Try again in 30 seconds") {
		t.Fatalf("right code during the backoff: %s", f.Page)
	}
	// A new sign-in: the right password is told to wait, like a wrong one.
	texts := len(tw.Messages())
	right := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password").Page
	wrong := app.Start(s.NewBrowser(t), nil).Password("alice", "not-the-password").Page
	sameBackoffAnswer(t, right, "alice", wrong, "alice", 30)
	if len(tw.Messages()) != texts {
		t.Fatal("a code was sent during the backoff")
	}
	want(5) // attempts refused by the backoff are not counted again

	// After the wait one attempt may go; the whole sign-in resets the count.
	s.Clock.Advance(31 * time.Second)
	g := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	if !strings.Contains(g.Page.Body, `autocomplete="one-time-code"`) {
		t.Fatalf("right password after the backoff: %s", g.Page)
	}
	g.SubmitCode(tw.LastCode(alicePhone)).Code() // at once: the password step gave its slot to the code
	want(0)

	// Lock: the 100th failure locks, and nothing but an unlock opens it.
	for range 99 {
		if _, err := s.App.Guard().Failure(ctx, alice, ""); err != nil {
			t.Fatal(err)
		}
	}
	s.Clock.Advance(16 * time.Minute)
	app.Start(s.NewBrowser(t), nil).Password("alice", "wrong-100")
	want(100)
	if got := auditDetails(t, s, "account_locked"); len(got) != 1 {
		t.Fatalf("account_locked audit events: %v", got)
	}
	s.Clock.Advance(24 * time.Hour)
	right = app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password").Page
	wrong = app.Start(s.NewBrowser(t), nil).Password("alice", "not-the-password").Page
	samePasswordAnswer(t, right, wrong)
	if err := s.App.Guard().Unlock(ctx, alice); err != nil { // what `twofold user unlock` does
		t.Fatal(err)
	}
	want(0)
	h := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	h.SubmitCode(tw.LastCode(alicePhone)).Code()
}

// A session left open is no password oracle: wrong current passwords on
// the account page count toward the same backoff as the sign-in's.
func TestSecurityAccountPagePasswordGuessing(t *testing.T) {
	s, _, _ := attackServer(t, testkit.ServerOptions{}, nil)
	alice := s.CreateUser(t, "alice", "alice-password")
	b := fromIP(s.NewBrowser(t), attackerIP)
	onAccountPage(t, accountSignIn(t, s, b, "/account", "alice", "alice-password", nil))
	change := func(current string) *testkit.Page {
		return b.Post("/account/password", url.Values{"current_password": {current}, "new_password": {"a new passphrase"}, "new_password_again": {"a new passphrase"}})
	}
	for i := range 5 {
		if p := change(fmt.Sprintf("guess-%d", i)); p.Status != http.StatusUnauthorized {
			t.Fatalf("wrong current password %d: %s", i+1, p)
		}
	}
	if got := failures(t, s, alice); got != 5 {
		t.Fatalf("account failures after 5 wrong current passwords = %d, want 5", got)
	}
	if p := change("alice-password"); p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" || !strings.Contains(p.Body, "Too many wrong passwords") {
		t.Fatalf("right current password during the backoff: %s", p)
	}
	app := s.NewRP(t, testkit.ClientOptions{})
	sameBackoffAnswer(t, app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password").Page, "alice",
		app.Start(s.NewBrowser(t), nil).Password("alice", "not-the-password").Page, "alice", 30)
}

// samePasswordAnswer asserts that two password-step answers cannot be told
// apart: status, body (but for the hidden request id) and the headers that
// could leak (Retry-After).
func samePasswordAnswer(t *testing.T, held, wrong *testkit.Page) {
	t.Helper()
	if held.Status != http.StatusUnauthorized || !strings.Contains(held.Body, "Wrong username or password.") {
		t.Fatalf("right password of a held account: %s", held)
	}
	if held.Status != wrong.Status || withoutRequestID(held.Body) != withoutRequestID(wrong.Body) {
		t.Fatalf("a held account answers differently from a wrong password:\n%s\n---\n%s", held, wrong)
	}
	if held.Header.Get("Retry-After") != "" || wrong.Header.Get("Retry-After") != "" {
		t.Fatal("the password step reveals a backoff with Retry-After")
	}
}

// Over 50 failures from one IP (IPv6: one /64) in 10 minutes get 429 with
// Retry-After; the account's owner signs in from elsewhere all along.
func TestSecurityIPLimit(t *testing.T) {
	s, _, _ := attackServer(t, testkit.ServerOptions{}, nil)
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	spray := func(ip string) *testkit.Browser {
		b := fromIP(s.NewBrowser(t), ip)
		id := app.Start(b, nil).Page.Field("authRequestID")
		for i := range 50 { // password spraying over many (unknown) accounts
			p := postForm(t, b, s.URL, "/login/password", url.Values{"authRequestID": {id}, "username": {fmt.Sprintf("user%d", i)}, "password": {"Summer2025!"}}, nil)
			if p.Status != http.StatusUnauthorized {
				t.Fatalf("failure %d from %s: %s", i+1, ip, p)
			}
		}
		return b
	}
	blocked := func(ip string) {
		t.Helper()
		p := app.Start(fromIP(s.NewBrowser(t), ip), nil).Password("alice", "alice-password").Page
		secs, err := strconv.Atoi(p.Header.Get("Retry-After"))
		if p.Status != http.StatusTooManyRequests || err != nil || secs < 1 || secs > 600 {
			t.Fatalf("right password from the blocked %s: %s (Retry-After %q)", ip, p, p.Header.Get("Retry-After"))
		}
	}
	spray(attackerIP)
	blocked(attackerIP)
	app.Login(fromIP(s.NewBrowser(t), userIP), "alice", "alice-password")

	spray("2001:db8:1:2::1")
	blocked("2001:db8:1:2:ffff:ffff:ffff:fffe") // the same /64
	app.Login(fromIP(s.NewBrowser(t), "2001:db8:1:3::1"), "alice", "alice-password")

	s.Clock.Advance(10*time.Minute + time.Second) // the window ends
	app.Login(fromIP(s.NewBrowser(t), attackerIP), "alice", "alice-password")
}

// 50 parallel wrong codes against one challenge spend exactly its 5
// attempts, on one server and on two sharing one PostgreSQL.
func TestSecurityParallelGuesses(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s, tw, _ := codeServer(t, o)
		parallelGuesses(t, []*testkit.Server{s}, tw)
	})
}

func TestSecurityParallelGuessesAcrossProcesses(t *testing.T) {
	db := testkit.PostgresURL(t) // first: it skips without PostgreSQL
	tw, mail := testkit.NewTwilio(t), testkit.NewSMTPSink(t)
	o := testkit.ServerOptions{DatabaseURL: db, Twilio: tw, SMTP: mail}
	parallelGuesses(t, []*testkit.Server{testkit.NewServer(t, o), testkit.NewServer(t, o)}, tw)
}

// parallelGuesses signs in on the first server and sends 50 wrong codes at
// once from the same browser, spread over the servers.
func parallelGuesses(t *testing.T, servers []*testkit.Server, tw *testkit.FakeTwilio) {
	s := servers[0]
	alice := s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	b := s.NewBrowser(t)
	f := s.NewRP(t, testkit.ClientOptions{}).Start(b, nil).Password("alice", "alice-password")
	right, id := tw.LastCode(alicePhone), f.Page.Field("authRequestID")
	form := url.Values{"authRequestID": {id}, "code": {wrongCode(right)}}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		checked  int // answers that compared the code
		left     []string
		errs     []error
	)
	for i := range 50 {
		base := servers[i%len(servers)].URL
		wg.Go(func() {
			p, err := do(b.HTTP, http.MethodPost, base+"/login/code", strings.NewReader(form.Encode()), nil)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			statuses[p.Status]++
			if m := notRightRE.FindStringSubmatch(p.Body); m != nil {
				checked++
				left = append(left, m[1])
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("requests failed: %v", errs)
	}
	if checked != 5 || statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests] != 50 {
		t.Fatalf("%d guesses were compared (want 5); statuses %v", checked, statuses)
	}
	// Each compared guess says exactly how many remain: every count once.
	slices.Sort(left)
	if want := []string{"1 attempt left", "2 attempts left", "3 attempts left", "4 attempts left", "it was the last attempt"}; !slices.Equal(left, want) {
		t.Fatalf("the compared guesses reported %q, want %q", left, want)
	}
	ctx := context.Background()
	ch, err := s.App.Store.LatestChallenge(ctx, id)
	if err != nil || ch.Attempts != 5 {
		t.Fatalf("stored attempts = %+v (%v), want 5", ch, err)
	}
	if got := failures(t, s, alice); got != 5 {
		t.Fatalf("account failures = %d, want 5", got)
	}
	f.SubmitCode(right)
	if f.Page.Location != "" || f.Page.Status < 400 {
		t.Fatalf("right code after 50 parallel guesses: %s", f.Page)
	}
	if err := s.App.Guard().Success(ctx, alice); err != nil { // only the code's limit left
		t.Fatal(err)
	}
	f.SubmitCode(right)
	if !strings.Contains(f.Page.Body, "Too many wrong codes. Send a new code.") {
		t.Fatalf("right code after the attempts ran out: %s", f.Page)
	}
	for _, s := range servers {
		noServerErrors(t, s)
	}
}

// Per sign-in 3 resends; per destination 5 texts per 10 minutes and 10 a
// day across sign-ins; a refused text falls to the next method.
func TestSecuritySendCaps(t *testing.T) {
	s, tw, mail := attackServer(t, testkit.ServerOptions{}, nil)
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	texts := func(n int) {
		t.Helper()
		if got := len(tw.Messages()); got != n {
			t.Fatalf("%d texts sent, want %d", got, n)
		}
	}
	signIn := func() *testkit.Flow {
		t.Helper()
		s.Clock.Advance(time.Second)
		return app.Start(fromIP(s.NewBrowser(t), userIP), nil).Password("alice", "alice-password")
	}

	f := signIn()
	for range 3 {
		s.Clock.Advance(31 * time.Second)
		f.PostCodeForm("/login/code/resend", nil)
	}
	texts(4)
	s.Clock.Advance(31 * time.Second)
	f.PostCodeForm("/login/code/resend", nil)
	if f.Page.Status != http.StatusTooManyRequests {
		t.Fatalf("a fourth resend: %s", f.Page)
	}
	texts(4)

	signIn()
	texts(5)
	fell := signIn() // the 6th text in 10 minutes is refused; the code goes by email
	texts(5)
	if !strings.Contains(html.UnescapeString(fell.Page.Body), "We couldn't text you, so we emailed the code") {
		t.Fatalf("no fallback after the destination cap: %s", fell.Page)
	}
	fell.SubmitCode(mail.LastCode("alice@example.com")).Code()
	if got := auditDetails(t, s, "code_send_refused"); len(got) != 2 || !strings.Contains(got[0], "limit=destination channel=sms") {
		t.Fatalf("code_send_refused audit: %v", got)
	}

	s.Clock.Advance(10 * time.Minute)
	for range 5 {
		signIn()
	}
	texts(10)
	s.Clock.Advance(10 * time.Minute)
	signIn() // the 11th text of the day
	texts(10)
	if len(mail.Messages()) != 2 {
		t.Fatalf("the 11th code of the day did not go by email: %d emails", len(mail.Messages()))
	}
}

// One IP may ask for 20 codes per 10 minutes, whatever the destinations.
func TestSecurityIPSendCap(t *testing.T) {
	s, tw, mail := attackServer(t, testkit.ServerOptions{}, nil)
	app := s.NewRP(t, testkit.ClientOptions{})
	for i := range 21 {
		s.CreateUserWith(t, testkit.UserSpec{Username: fmt.Sprintf("user%02d", i), Password: "user-password",
			Phone: fmt.Sprintf("+141555501%02d", i), Methods: []string{"sms"}})
	}
	for i := range 20 {
		app.Start(fromIP(s.NewBrowser(t), attackerIP), nil).Password(fmt.Sprintf("user%02d", i), "user-password")
	}
	if len(tw.Messages()) != 20 {
		t.Fatalf("%d texts for 20 sign-ins", len(tw.Messages()))
	}
	p := app.Start(fromIP(s.NewBrowser(t), attackerIP), nil).Password("user20", "user-password").Page
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" || !strings.Contains(p.Body, "use another method") {
		t.Fatalf("21st send from one IP: %s", p)
	}
	if len(tw.Messages()) != 20 || len(mail.Messages()) != 0 {
		t.Fatalf("the 21st send went out: %d texts, %d emails", len(tw.Messages()), len(mail.Messages()))
	}
	if got := strings.Join(auditDetails(t, s, "code_send_refused"), "\n"); !strings.Contains(got, "limit=ip channel=sms") {
		t.Fatalf("code_send_refused audit: %s", got)
	}
	// The same user, from their own network, gets the text.
	app.Start(fromIP(s.NewBrowser(t), userIP), nil).Password("user20", "user-password")
	if len(tw.Messages()) != 21 {
		t.Fatal("the IP cap blocked another IP")
	}
}

// SMS goes only to allow-listed countries (default: that of twilio.from),
// within a global hourly budget; refused texts fall back to email.
func TestSecurityCountryAllowListAndBudget(t *testing.T) {
	s, tw, mail := attackServer(t, testkit.ServerOptions{}, func(c *configT) { c.Limits.SMSGlobalHourly = 2 })
	app := s.NewRP(t, testkit.ClientOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "brit", Password: "brit-password", Phone: gbPhone, Methods: []string{"sms"}})
	f := app.Start(s.NewBrowser(t), nil).Password("brit", "brit-password")
	if len(tw.Messages()) != 0 || !strings.Contains(html.UnescapeString(f.Page.Body), "We couldn't text you, so we emailed the code") {
		t.Fatalf("GB number with a US sender: %d texts, page %s", len(tw.Messages()), f.Page)
	}
	f.SubmitCode(mail.LastCode("brit@example.com")).Code()
	if got := auditDetails(t, s, "code_send_refused"); len(got) != 1 || !strings.Contains(got[0], "limit=country channel=sms region=GB") {
		t.Fatalf("code_send_refused audit: %v", got)
	}

	for i := range 3 {
		name := fmt.Sprintf("user%d", i)
		s.CreateUserWith(t, testkit.UserSpec{Username: name, Password: "user-password", Phone: fmt.Sprintf("+141555502%02d", i), Methods: []string{"sms"}})
		app.Start(s.NewBrowser(t), nil).Password(name, "user-password")
	}
	if len(tw.Messages()) != 2 || len(mail.Messages()) != 2 {
		t.Fatalf("budget of 2 texts an hour: %d texts, %d emails", len(tw.Messages()), len(mail.Messages()))
	}
	if got := auditDetails(t, s, "code_send_refused"); len(got) != 2 || !strings.Contains(got[0], "limit=budget channel=sms region=US") {
		t.Fatalf("code_send_refused audit: %v", got)
	}
}

// Nothing is sent before the password step succeeds: not to a wrong
// password, an unknown user or an account in backoff.
func TestSecurityNoSendBeforePassword(t *testing.T) {
	s, tw, mail := attackServer(t, testkit.ServerOptions{}, nil)
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms", "voice", "email"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := fromIP(s.NewBrowser(t), attackerIP)
	for i := range 6 {
		app.Start(b, nil).Password("alice", fmt.Sprintf("guess-%d", i))
		app.Start(b, nil).Password("alice-"+strconv.Itoa(i), "alice-password")
	}
	app.Start(b, nil).Password("alice", "alice-password") // right, but in backoff
	if n := len(tw.Messages()) + len(tw.Calls()) + len(mail.Messages()); n != 0 {
		t.Fatalf("%d codes were sent before a password step succeeded", n)
	}
}

// Unknown users, wrong passwords and locked accounts take the same time:
// the unknown and the locked paths hash a dummy password. Names in backoff
// take the same time whether an account has them or not: neither hashes.
func TestSecurityEnumerationTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	s := testkit.NewServer(t, testkit.ServerOptions{Configure: func(c *configT) {
		c.Password = config.Password{MemoryKiB: 16 << 10, Iterations: 1, Parallelism: 1, MaxConcurrent: 8, QueueTimeout: config.Duration(5 * time.Second), MinLength: 8}
		c.Limits.IPFailures = 1 << 20
	}})
	ctx := context.Background()
	alice := s.CreateUser(t, "alice", "alice-password")
	locked := s.CreateUser(t, "locked", "locked-password")
	for range 100 {
		if _, err := s.App.Guard().Failure(ctx, locked, ""); err != nil {
			t.Fatal(err)
		}
	}
	held := s.CreateUser(t, "held", "held-password")
	for _, key := range []string{held, s.App.Guard().UsernameKey("held-nobody")} {
		for range 5 { // in backoff while the test's clock stands still
			if _, err := s.App.Guard().Failure(ctx, key, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := s.NewBrowser(t)
	id := s.NewRP(t, testkit.ClientOptions{}).Start(b, nil).Page.Field("authRequestID")
	type kind struct {
		name, username, password string
		status                   int
	}
	// Two groups, each timed alike within: the answers that check a
	// password, and the answers of a backoff.
	groups := [][]kind{{
		{"unknown user", "nobody", "some-password", http.StatusUnauthorized},
		{"wrong password", "alice", "some-password", http.StatusUnauthorized},
		{"locked account", "locked", "locked-password", http.StatusUnauthorized},
	}, {
		{"account in backoff", "held", "held-password", http.StatusTooManyRequests},
		{"unknown name in backoff", "held-nobody", "some-password", http.StatusTooManyRequests},
	}}
	measure := func(kinds []kind) []time.Duration {
		times := make([][]time.Duration, len(kinds))
		for i := range 30 {
			for j := range kinds {
				k := kinds[(i+j)%len(kinds)] // interleaved, in a rotating order
				username := k.username
				switch username {
				case "alice":
					if err := s.App.Guard().Success(ctx, alice); err != nil { // stay out of backoff
						t.Fatal(err)
					}
				case "nobody":
					username = fmt.Sprintf("nobody-%d", i) // a name's own backoff stays away too
				}
				start := time.Now()
				p := postForm(t, b, s.URL, "/login/password", url.Values{"authRequestID": {id}, "username": {username}, "password": {k.password}}, nil)
				times[(i+j)%len(kinds)] = append(times[(i+j)%len(kinds)], time.Since(start))
				if p.Status != k.status {
					t.Fatalf("%s: %s", k.name, p)
				}
			}
		}
		medians := make([]time.Duration, len(kinds))
		for i := range times {
			medians[i] = median(times[i])
		}
		return medians
	}
	// What a missing dummy hash would save: one verification.
	hashed, _ := s.App.Passwords().Hash(ctx, "x")
	start := time.Now()
	s.App.Passwords().Verify(ctx, hashed, "y")
	hashCost := time.Since(start)
	for _, kinds := range groups {
		for try := 1; ; try++ {
			m := measure(kinds)
			lo, hi := slices.Min(m), slices.Max(m)
			bound := max(hi/4, 3*time.Millisecond)
			t.Logf("try %d: medians %v of %v (bound %v; one hash %v)", try, m, kinds, bound, hashCost)
			if hi-lo < bound {
				break
			}
			if try == 2 {
				t.Fatalf("the password step's time tells the cases apart: medians %v of %v (bound %v)", m, kinds, bound)
			}
		}
	}
}
