package login

import (
	"time"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// codeRules are the rules of one-time codes, in one place: how many
// digits, how long a code lives, how many guesses it takes, how soon a new
// one may replace it and how many go out per sign-in. They come from the
// effective policy (sign-in codes) or the configuration (codes that verify
// a new phone number or address). A challenge carries its own expiry and
// attempt limit from the moment it is created, and storage enforces them
// with its conditional UPDATEs (a guess counts only while the code is live
// and has attempts left; a code is used once), which is what holds under
// parallel guesses.
type codeRules struct {
	digits      int
	ttl         time.Duration
	maxAttempts int
	cooldown    time.Duration // before a new code may replace the last
	maxResends  int           // codes after the first, per sign-in
}

// rulesOf returns the code rules of an effective policy.
func rulesOf(eff policy.Effective) codeRules {
	return codeRules{digits: eff.CodeDigits, ttl: eff.CodeTTL, maxAttempts: eff.MaxAttempts,
		cooldown: eff.ResendCooldown, maxResends: eff.MaxResends}
}

// rules returns the configured code rules, which verification codes at
// enrolment follow.
func (o OTPSettings) rules() codeRules {
	return codeRules{digits: o.Digits, ttl: o.TTL, maxAttempts: o.MaxAttempts,
		cooldown: o.ResendCooldown, maxResends: o.MaxResends}
}

// challenge returns a new challenge created at now, with its expiry and
// attempt limit.
func (c codeRules) challenge(id string, now time.Time) *storage.Challenge {
	return &storage.Challenge{ID: id, MaxAttempts: c.maxAttempts, CreatedAt: now, ExpiresAt: now.Add(c.ttl)}
}

// maySend reports whether another code may go out for a sign-in that has
// sent codes already: the first and maxResends more.
func (c codeRules) maySend(sent int64) bool { return sent <= int64(c.maxResends) }

// resendWait is how long until a new code may replace last (0: now).
func (c codeRules) resendWait(last *storage.Challenge, now time.Time) time.Duration {
	return max(last.CreatedAt.Add(c.cooldown).Sub(now), 0)
}

// digitsOf is how many digits the code of ch has: an authenticator app's
// are always 6 (RFC 6238 as every app does it).
func (c codeRules) digitsOf(ch *storage.Challenge) int {
	if ch.Method == storage.MethodTOTP {
		return 6
	}
	return c.digits
}

// attemptsLeft is how many guesses ch has left after the guess counted as
// attempts: exact under parallel guesses, since each guess learns its own
// count. The challenge's own limit counts, not today's policy.
func attemptsLeft(ch *storage.Challenge, attempts int) int { return ch.MaxAttempts - attempts }

// wrongCodeMessage answers a wrong code with the attempts it left.
func wrongCodeMessage(left int) i18n.Message {
	if left <= 0 {
		return i18n.M("code.wrong_last")
	}
	return i18n.M("code.wrong", left)
}

// spentMessage says why storage refused to count a guess at ch: judged by
// what the refusal can have been, not by the count read before it, since
// parallel guesses may have spent the attempts meanwhile.
func spentMessage(ch *storage.Challenge, now time.Time) i18n.Message {
	if ch.UsedAt != nil || !now.Before(ch.ExpiresAt) {
		return i18n.M("code.expired")
	}
	return i18n.M("code.too_many_wrong")
}
