package login

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// The rows below are the README's rules about what a sign-in does next,
// one row per rule ("Second factor", "Policies", "Sessions", "Security"),
// each on a state with every part loaded. An answer reads as:
//
//	sign in amr=… acr=…   a new session, the request completed
//	sso                   completed from the browser's live session
//	send m1,m2            a code by the first of these methods that can
//	enrol                 set up a method first
//	refuse S: heading     an error page (wait D: with Retry-After)
//	code page S: message  the code page again, saying so
//	error code            the OAuth error back to the client
//	password page, callback, capped (the per-sign-in cap)
//
// and [event] is an audit event recorded with it.

var (
	smsFactor   = storage.SecondFactor{Method: storage.MethodSMS, Destination: "+14155550123"}
	voiceFactor = storage.SecondFactor{Method: storage.MethodVoice, Destination: "+14155550123"}
	totpFactor  = storage.SecondFactor{Method: storage.MethodTOTP}
)

// signInAt is a state at t0 of alice at the client "app" under the
// default policy (optional, every method, the README's code rules, 90-day
// sessions), with nothing else known yet and every part loaded.
func signInAt(s step, setup ...func(*state)) *state {
	st := &state{step: s, now: t0, req: &storage.AuthRequest{ID: "r1", ClientID: "app"},
		user: &storage.User{ID: "alice"},
		policy: policy.Effective{SecondFactor: policy.Optional, AllowedMethods: storage.Methods(), CodeDigits: 6, CodeTTL: 5 * time.Minute,
			MaxAttempts: 5, ResendCooldown: 30 * time.Second, MaxResends: 3, SessionLifetime: 90 * 24 * time.Hour, ExemptAPIAccounts: true},
		loaded: ^part(0)}
	for _, f := range setup {
		f(st)
	}
	return st
}

// Ways to set a state up, named as the rules say them.
func has(fs ...storage.SecondFactor) func(*state) { return func(st *state) { st.factors = fs } }

func secondFactor(level string) func(*state) {
	return func(st *state) { st.policy.SecondFactor = level }
}

func allowed(ms ...storage.Method) func(*state) {
	return func(st *state) { st.policy.AllowedMethods = ms }
}

func apiAccount(st *state)     { st.user.APIAccount = true }
func notExempt(st *state)      { st.policy.ExemptAPIAccounts = false }
func asksTwoFactors(st *state) { st.req.ACRValues = []string{ACRTwoFactor} }

func prompt(p string) func(*state) { return func(st *state) { st.req.Prompt = []string{p} } }

// session gives the browser a live session of alice, signed in age ago,
// with a second factor mfaAge ago (none when negative).
func session(age, mfaAge time.Duration) func(*state) {
	return func(st *state) {
		at := t0.Add(-age)
		st.session = &storage.Session{ID: "s1", UserID: "alice", AuthTime: at, CreatedAt: at, LastSeenAt: t0.Add(-time.Minute),
			AMR: []string{"pwd"}, ACR: ACRPassword}
		if mfaAge >= 0 {
			m := t0.Add(-mfaAge)
			st.session.MFAAt, st.session.AMR, st.session.ACR = &m, []string{"pwd", "sms", "mfa"}, ACRTwoFactor
		}
	}
}

// remembered: the policy remembers devices for a week, and this browser
// completed a second factor for alice ago.
func remembered(ago time.Duration) func(*state) {
	return func(st *state) {
		st.policy.RememberDevice = 7 * 24 * time.Hour
		at := t0.Add(-ago).Truncate(time.Second)
		st.deviceAt = &at
	}
}

func backoff(wait time.Duration) func(*state) { return func(st *state) { st.wait = wait } }
func locked(st *state)                        { st.locked = true }

// sent: the sign-in sent n codes, the last one ago, by method.
func sent(n int64, ago time.Duration, method storage.Method) func(*state) {
	return func(st *state) {
		st.sent = n
		st.challenge = &storage.Challenge{ID: "c1", Method: method, Channel: method, CreatedAt: t0.Add(-ago)}
	}
}

func TestDecide(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		rule  string
		state *state
		want  string
	}{
		// Second factor.
		{"optional: a user with a method is asked for a code",
			signInAt(stepPassword, has(smsFactor)), "send sms"},
		{"optional: a user without one goes on with the password alone",
			signInAt(stepPassword), "sign in amr=pwd acr=pwd"},
		{"optional: a method the policy does not allow does not count",
			signInAt(stepPassword, allowed(storage.MethodTOTP), has()), "sign in amr=pwd acr=pwd"},
		{"every usable method is tried, the preferred first",
			signInAt(stepPassword, has(smsFactor, totpFactor)), "send sms,totp"},
		{"required: everyone is asked",
			signInAt(stepPassword, secondFactor(policy.Required), has(totpFactor)), "send totp"},
		{"required: a user with no allowed method enrols first",
			signInAt(stepPassword, secondFactor(policy.Required)), "enrol"},
		{"required: with no method that can be enrolled, a clear refusal",
			signInAt(stepPassword, secondFactor(policy.Required), allowed(storage.MethodVoice)), "refuse 403: A second factor is required"},
		{"off: nobody is asked",
			signInAt(stepPassword, secondFactor(policy.Off), has(smsFactor)), "sign in amr=pwd acr=pwd"},
		{"API accounts never get a code where the policy exempts them",
			signInAt(stepPassword, secondFactor(policy.Required), apiAccount, has(smsFactor)), "sign in amr=pwd acr=pwd"},
		{"API accounts are asked where the policy does not exempt them",
			signInAt(stepPassword, apiAccount, notExempt, has(smsFactor)), "send sms"},
		{"acr_values for two factors asks even where the policy is off",
			signInAt(stepPassword, secondFactor(policy.Off), asksTwoFactors, has(smsFactor)), "send sms"},
		{"acr_values for two factors, and no method: enrol",
			signInAt(stepPassword, asksTwoFactors), "enrol"},

		// Step-up, sessions and prompts.
		{"a live session answers at once",
			signInAt(stepStart, session(time.Hour, -1)), "sso"},
		{"a request already done goes on to the callback",
			signInAt(stepStart, func(st *state) { st.req.DoneAt = &t0 }), "callback"},
		{"no session: the password page",
			signInAt(stepStart), "password page"},
		{"step-up: acr_values for two factors in a password-only session asks a code, not the password",
			signInAt(stepStart, session(time.Hour, -1), secondFactor(policy.Off), asksTwoFactors, has(smsFactor)),
			"send sms [step_up]"},
		{"step-up: a second factor of the last 12 hours satisfies acr_values",
			signInAt(stepStart, session(20*time.Hour, 11*time.Hour), asksTwoFactors, has(smsFactor)), "sso"},
		{"step-up: one older than 12 hours asks for a new code",
			signInAt(stepStart, session(20*time.Hour, 13*time.Hour), asksTwoFactors, has(smsFactor)), "send sms [step_up]"},
		{"a session without a second factor does not answer for a user who has one now",
			signInAt(stepStart, session(time.Hour, -1), has(smsFactor)), "send sms [step_up]"},
		{"step-up for a user without a method enrols",
			signInAt(stepStart, session(time.Hour, -1), asksTwoFactors), "enrol"},
		{"prompt=login asks for the password whatever the session",
			signInAt(stepStart, session(time.Hour, time.Hour), prompt("login")), "password page"},
		{"max_age: a session signed in longer ago asks for the password",
			signInAt(stepStart, session(2*time.Hour, time.Hour), func(st *state) { st.req.MaxAge = new(int64(3600)) }), "password page"},
		{"max_age: a session signed in since answers",
			signInAt(stepStart, session(30*time.Minute, -1), func(st *state) { st.req.MaxAge = new(int64(3600)) }), "sso"},
		{"prompt=none without a session: login_required",
			signInAt(stepStart, prompt("none")), "error login_required"},
		{"prompt=none with a session that answers: at once",
			signInAt(stepStart, session(time.Hour, -1), prompt("none")), "sso"},
		{"prompt=none cannot step up: interaction_required, no code",
			signInAt(stepStart, session(time.Hour, -1), prompt("none"), asksTwoFactors, has(smsFactor)), "error interaction_required"},
		{"an id_token_hint for another user: the password page, audited",
			signInAt(stepStart, session(time.Hour, -1), func(st *state) { st.req.HintSubject = "bob" }), "password page [sso_refused]"},
		{"an id_token_hint for another user with prompt=none: login_required",
			signInAt(stepStart, session(time.Hour, -1), prompt("none"), func(st *state) { st.req.HintSubject = "bob" }),
			"error login_required [sso_refused]"},
		{"an id_token_hint for the signed-in user: the session answers",
			signInAt(stepStart, session(time.Hour, -1), func(st *state) { st.req.HintSubject = "alice" }), "sso"},
		{"a session of a disabled or deleted user does not answer",
			signInAt(stepStart, session(time.Hour, -1), func(st *state) { st.user = nil }), "password page"},
		{"the session lives for the policy's session_lifetime",
			signInAt(stepStart, session(9*time.Hour, -1), func(st *state) { st.policy.SessionLifetime = 8 * time.Hour }), "password page"},
		{"idle_timeout: a session unused for longer is over",
			signInAt(stepStart, session(3*time.Hour, -1), func(st *state) {
				st.policy.IdleTimeout = time.Hour
				st.session.LastSeenAt = t0.Add(-61 * time.Minute)
			}), "password page"},
		{"revoking the user's sessions ends this one",
			signInAt(stepStart, session(time.Hour, -1), func(st *state) { st.user.SessionsNotBefore = new(t0.Add(-time.Minute)) }), "password page"},
		{"session revoke --all ends this one",
			signInAt(stepStart, session(time.Hour, -1), func(st *state) { st.notBefore = t0.Add(-time.Minute) }), "password page"},

		// remember_device.
		{"a remembered device skips the code",
			signInAt(stepPassword, has(smsFactor), remembered(day)), "sign in amr=pwd,mfa acr=2fa [second_factor_remembered]"},
		{"a remembered device does not skip acr_values for two factors",
			signInAt(stepPassword, has(smsFactor), remembered(day), asksTwoFactors), "send sms"},
		{"past the policy's window the device is forgotten",
			signInAt(stepPassword, has(smsFactor), remembered(8*day)), "send sms"},
		{"a policy that turns remember_device off forgets every device",
			signInAt(stepPassword, has(smsFactor), remembered(day), func(st *state) { st.policy.RememberDevice = 0 }), "send sms"},
		{"revoking the user's sessions forgets their devices",
			signInAt(stepPassword, has(smsFactor), remembered(day), func(st *state) { st.user.SessionsNotBefore = new(t0.Add(-time.Hour)) }),
			"send sms"},
		{"session revoke --all forgets every device",
			signInAt(stepPassword, has(smsFactor), remembered(day), func(st *state) { st.notBefore = t0.Add(-time.Hour) }), "send sms"},
		{"a remembered device lets a session without a fresh factor answer",
			signInAt(stepStart, session(time.Hour, -1), has(smsFactor), remembered(day)), "sso"},

		// Security: no code is sent that the code step would refuse.
		{"backoff: no code after the password, the wait is said",
			signInAt(stepPassword, has(smsFactor), backoff(29*time.Second)), "refuse 429: Too many attempts (wait 29s)"},
		{"locked: no code after the password",
			signInAt(stepPassword, has(smsFactor), locked), "refuse 429: Your account is locked"},
		{"backoff: no code in a step-up either",
			signInAt(stepStart, session(time.Hour, -1), asksTwoFactors, has(smsFactor), backoff(30*time.Second)),
			"refuse 429: Too many attempts (wait 30s) [step_up]"},
		{"backoff: no resend, the code page says the wait",
			signInAt(stepResend, has(smsFactor), sent(1, time.Minute, storage.MethodSMS), backoff(29*time.Second)),
			"code page 429: Too many failed attempts for your account. Try again in 29 seconds. (wait 29s)"},
		{"backoff: no other method either",
			signInAt(stepMethod, has(smsFactor, voiceFactor), sent(1, time.Minute, storage.MethodSMS), backoff(10*time.Second),
				func(st *state) { st.method = storage.MethodVoice }),
			"code page 429: Too many failed attempts for your account. Try again in 10 seconds. (wait 10s)"},

		// Resends and other methods.
		{"a resend within the cooldown is refused",
			signInAt(stepResend, has(smsFactor), sent(1, 29*time.Second, storage.MethodSMS)),
			"code page 429: Please wait a little before asking for a new code."},
		{"a resend after the cooldown goes by the same method",
			signInAt(stepResend, has(smsFactor, voiceFactor), sent(1, 30*time.Second, storage.MethodVoice)), "send voice"},
		{"three resends per sign-in",
			signInAt(stepResend, has(smsFactor), sent(4, time.Minute, storage.MethodSMS)), "capped"},
		{"the cap holds after the password too",
			signInAt(stepPassword, has(smsFactor), sent(4, time.Minute, storage.MethodSMS)), "capped"},
		{"another method, one the user has",
			signInAt(stepMethod, has(smsFactor, voiceFactor), sent(1, time.Second, storage.MethodSMS),
				func(st *state) { st.method = storage.MethodVoice }), "send voice"},
		{"another method the user has not got, or the policy does not allow",
			signInAt(stepMethod, has(smsFactor), sent(1, time.Second, storage.MethodSMS),
				func(st *state) { st.method = storage.MethodEmail }), "code page 400: That method is not available."},
		{"a resend for a sign-in that sent no code",
			signInAt(stepResend, has(smsFactor)), "refuse 400: This sign-in link cannot be used"},
	} {
		if got := describe(decide(tc.state)); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.rule, got, tc.want)
		}
	}
}

// decide reads only what its answer depends on: it asks for each part of
// the state when it gets there, and never for a part it has.
func TestDecideAsksForWhatItNeeds(t *testing.T) {
	only := func(p part) func(*state) { return func(st *state) { st.loaded = p | partUser } }
	for _, tc := range []struct {
		rule  string
		state *state
		want  string
	}{
		{"the login page reads the session first",
			signInAt(stepStart, only(0)), "load session"},
		{"prompt=login reads no session",
			signInAt(stepStart, prompt("login"), only(0)), "password page"},
		{"no session: nothing more",
			signInAt(stepStart, only(partSession)), "password page"},
		{"a session past max_age: nothing more",
			signInAt(stepStart, session(2*time.Hour, -1), func(st *state) { st.req.MaxAge = new(int64(60)) }, only(partSession)), "password page"},
		{"a session's user next",
			signInAt(stepStart, session(time.Hour, -1), func(st *state) { st.loaded = partSession }), "load user"},
		{"then the policy and the session marks",
			signInAt(stepStart, session(time.Hour, -1), only(partSession)), "load policy,marks"},
		{"an SSO that needs no code reads no guard, device or codes",
			signInAt(stepStart, session(time.Hour, -1), only(partSession|partPolicy|partMarks|partFactors)), "sso"},
		{"after the password: the policy and the factors",
			signInAt(stepPassword, only(0)), "load policy,factors"},
		{"a remembered device is read only where the policy remembers devices",
			signInAt(stepPassword, has(smsFactor), func(st *state) { st.policy.RememberDevice = time.Hour }, only(partPolicy|partFactors)), "load device"},
		{"the marks only for a device cookie that holds",
			signInAt(stepPassword, has(smsFactor), remembered(time.Hour), only(partPolicy|partFactors|partDevice)), "load marks"},
		{"the account's wait before a code goes",
			signInAt(stepPassword, has(smsFactor), only(partPolicy|partFactors)), "load guard"},
		{"the codes sent, for the cap",
			signInAt(stepPassword, has(smsFactor), only(partPolicy|partFactors|partGuard)), "load challenge"},
		{"a user who needs no code: nothing more",
			signInAt(stepPassword, only(partPolicy|partFactors)), "sign in amr=pwd acr=pwd"},
	} {
		if got := describe(decide(tc.state)); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.rule, got, tc.want)
		}
	}
}

// describe says a decision the way the tables read.
func describe(d decision) string {
	var b strings.Builder
	switch d.act {
	case actLoad:
		var parts []string
		for i, name := range []string{"session", "user", "policy", "factors", "marks", "device", "guard", "challenge"} {
			if d.need&(1<<i) != 0 {
				parts = append(parts, name)
			}
		}
		b.WriteString("load " + strings.Join(parts, ","))
	case actCallback:
		b.WriteString("callback")
	case actPassword:
		b.WriteString("password page")
	case actOAuthError:
		b.WriteString("error " + d.oauth[0])
	case actSSO:
		b.WriteString("sso")
	case actComplete:
		acr := map[string]string{ACRPassword: "pwd", ACRTwoFactor: "2fa"}[d.acr]
		fmt.Fprintf(&b, "sign in amr=%s acr=%s", strings.Join(d.amr, ","), acr)
	case actEnrol:
		b.WriteString("enrol")
	case actSend:
		var ms []string
		for _, f := range d.try {
			ms = append(ms, string(f.Method))
		}
		b.WriteString("send " + strings.Join(ms, ","))
	case actCapped:
		b.WriteString("capped")
	case actRefuse:
		fmt.Fprintf(&b, "refuse %d: %s", d.page.status, english(d.page.heading))
	case actCodePage:
		fmt.Fprintf(&b, "code page %d: %s", d.page.status, english(d.page.message))
	}
	if d.retryAfter > 0 {
		fmt.Fprintf(&b, " (wait %s)", d.retryAfter)
	}
	if d.note.event != "" {
		fmt.Fprintf(&b, " [%s]", d.note.event)
	}
	return b.String()
}
