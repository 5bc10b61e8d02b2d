package otp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// TOTP parameters. SHA1, six digits and 30 seconds are what every
// authenticator app supports; several silently ignore other values in the
// URI and would then show codes that never verify.
const (
	totpPeriod      = 30
	totpDigits      = 6
	totpSkew        = 1  // steps accepted either side of now, for clock drift
	totpSecretBytes = 20 // 160 bits, the size RFC 4226 recommends
	// RFC 4226 §4 requires at least 128 bits; shorter stored secrets are
	// treated as corrupt rather than silently accepted.
	totpMinSecretBytes = 16
	totpMaxSecretLen   = 128
)

var (
	b32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)
	hotpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
)

// NewTOTPSecret returns a fresh 160-bit secret, base32 without padding,
// the form authenticator apps accept in a URI or typed by hand.
func NewTOTPSecret() (string, error) {
	b := make([]byte, totpSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("otp: reading randomness: %w", err)
	}
	return b32NoPad.EncodeToString(b), nil
}

// TOTPURI returns the otpauth:// key URI for enrolment. The issuer appears
// both in the label and as a parameter because older apps read only one of
// the two. The format cannot carry a colon in issuer or account (apps split
// the label at the first one after unescaping), so config validation should
// keep colons out of the issuer name.
func TOTPURI(issuer, account, secret string) string {
	label := labelEscape(issuer) + ":" + labelEscape(account)
	return "otpauth://totp/" + label +
		"?secret=" + queryEscape(secret) +
		"&issuer=" + queryEscape(issuer) +
		"&algorithm=SHA1" +
		"&digits=" + fmt.Sprint(totpDigits) +
		"&period=" + fmt.Sprint(totpPeriod)
}

// labelEscape escapes a label part; the colon is escaped too because it
// separates issuer from account.
func labelEscape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}

// queryEscape escapes a query value with %20 for spaces, since some
// authenticator apps show a literal "+".
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// TOTPCode returns the six-digit code for secret at t, for tests and the
// load driver, which play the part of the authenticator app.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := canonicalSecret(secret)
	if err != nil {
		return "", err
	}
	step := stepAt(t)
	if step < 0 {
		return "", fmt.Errorf("otp: time %v is before the Unix epoch", t)
	}
	return hotp.GenerateCodeCustom(key, uint64(step), hotpOpts)
}

// VerifyTOTP checks code against secret at now, accepting the current 30 s
// step and one either side, but only a step strictly after lastStep. On
// success it returns the matched step, which the caller must store (with a
// conditional update, last_step < step) and pass as lastStep next time: that
// is what makes an accepted code, or any older one, unusable again. Pass 0
// when no code has been accepted yet.
func VerifyTOTP(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	norm, valid := Normalize(code)
	if !valid || len(norm) != totpDigits {
		return 0, false
	}
	key, err := canonicalSecret(secret)
	if err != nil {
		return 0, false
	}
	cur := stepAt(now)
	// Every candidate step is computed and compared, and the earliest match
	// wins, so a chance collision with a future step does not burn it.
	for s := cur + totpSkew; s >= cur-totpSkew; s-- {
		if s < 0 || s <= lastStep {
			continue
		}
		want, err := hotp.GenerateCodeCustom(key, uint64(s), hotpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(norm)) == 1 {
			step, ok = s, true
		}
	}
	return step, ok
}

// stepAt is the RFC 6238 time step of t, floored also before the epoch so
// that negative times never alias step 0.
func stepAt(t time.Time) int64 {
	u := t.Unix()
	s := u / totpPeriod
	if u < 0 && u%totpPeriod != 0 {
		s--
	}
	return s
}

// canonicalSecret checks that secret is base32 of at least 128 bits and
// returns it upper-case without padding, the form hotp decodes reliably.
func canonicalSecret(secret string) (string, error) {
	if len(secret) > totpMaxSecretLen {
		return "", fmt.Errorf("otp: TOTP secret longer than %d characters", totpMaxSecretLen)
	}
	s := strings.TrimRight(strings.ToUpper(secret), "=")
	raw, err := b32NoPad.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("otp: TOTP secret is not base32: %w", err)
	}
	if len(raw) < totpMinSecretBytes {
		return "", fmt.Errorf("otp: TOTP secret is %d bytes, need at least %d", len(raw), totpMinSecretBytes)
	}
	return s, nil
}
