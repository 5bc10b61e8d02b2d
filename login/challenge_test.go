package login

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// The README's defaults: 6 digits, 5 minutes, 5 attempts, 30 seconds
// between codes, 3 resends.
var defaultRules = rulesOf(policy.Effective{CodeDigits: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5,
	ResendCooldown: 30 * time.Second, MaxResends: 3})

func TestCodeRulesNewChallenge(t *testing.T) {
	ch := defaultRules.challenge("c1", t0)
	if ch.ID != "c1" || !ch.CreatedAt.Equal(t0) || !ch.ExpiresAt.Equal(t0.Add(5*time.Minute)) || ch.MaxAttempts != 5 || ch.Attempts != 0 {
		t.Fatalf("challenge = %+v", ch)
	}
	verify := OTPSettings{Digits: 8, TTL: time.Minute, MaxAttempts: 3, ResendCooldown: time.Second, MaxResends: 1}.rules()
	if ch := verify.challenge("c2", t0); !ch.ExpiresAt.Equal(t0.Add(time.Minute)) || ch.MaxAttempts != 3 || verify.digits != 8 {
		t.Fatalf("verification challenge = %+v (%d digits)", ch, verify.digits)
	}
}

func TestCodeRulesResends(t *testing.T) {
	for _, tc := range []struct {
		name string
		sent int64
		want bool
	}{
		{"the first code", 0, true},
		{"the third resend", 3, true},
		{"a fourth resend", 4, false},
	} {
		if got := defaultRules.maySend(tc.sent); got != tc.want {
			t.Errorf("%s: maySend(%d) = %v, want %v", tc.name, tc.sent, got, tc.want)
		}
	}
	last := &storage.Challenge{CreatedAt: t0}
	for _, tc := range []struct {
		after, want time.Duration
	}{
		{0, 30 * time.Second},
		{29 * time.Second, time.Second},
		{30 * time.Second, 0},
		{time.Hour, 0},
	} {
		if got := defaultRules.resendWait(last, t0.Add(tc.after)); got != tc.want {
			t.Errorf("resendWait %v after a code = %v, want %v", tc.after, got, tc.want)
		}
	}
}

func TestCodeRulesGuesses(t *testing.T) {
	ch := defaultRules.challenge("c1", t0)
	for _, tc := range []struct {
		attempts int
		want     string
	}{
		{1, "That code is not right. 4 attempts left."},
		{4, "That code is not right. 1 attempt left."},
		{5, "That code is not right, and it was the last attempt. Send a new code."},
	} {
		if got := english(wrongCodeMessage(attemptsLeft(ch, tc.attempts))); got != tc.want {
			t.Errorf("wrong guess %d: %q, want %q", tc.attempts, got, tc.want)
		}
	}
	used := t0.Add(time.Minute)
	for _, tc := range []struct {
		name string
		ch   storage.Challenge
		at   time.Time
		want string
	}{
		{"attempts spent", *ch, t0.Add(time.Minute), "Too many wrong codes. Send a new code."},
		{"past its TTL", *ch, t0.Add(5 * time.Minute), "This code has expired. Send a new code."},
		{"replaced by a new code", storage.Challenge{ExpiresAt: ch.ExpiresAt, UsedAt: &used}, t0.Add(2 * time.Minute), "This code has expired. Send a new code."},
	} {
		if got := english(spentMessage(&tc.ch, tc.at)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if d := defaultRules.digitsOf(&storage.Challenge{Method: storage.MethodTOTP}); d != 6 {
		t.Errorf("an authenticator app's code has %d digits", d)
	}
	if d := rulesOf(policy.Effective{CodeDigits: 8}).digitsOf(&storage.Challenge{Method: storage.MethodSMS}); d != 8 {
		t.Errorf("an SMS code under code_digits 8 has %d digits", d)
	}
}
