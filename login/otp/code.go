// Package otp generates, hashes and verifies the codes of the second factor:
// one-time codes delivered by SMS, voice call or email, TOTP codes from
// authenticator apps (RFC 6238), and single-use recovery codes.
//
// Codes are never stored in the clear. A delivered code is kept as a keyed
// hash bound to one challenge, so a copy of the database neither reveals a
// live code nor lets a code for one login be replayed against another.
// Everything here is pure: no storage, no clock, no HTTP; callers persist
// hashes and TOTP steps and inject the time.
package otp

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
)

// Bounds on the length of a delivered code: fewer than six digits is too easy
// to guess within the attempt limit, more than ten is too tedious to type.
const (
	MinDigits = 6
	MaxDigits = 10
)

// maxInputLen bounds what the parsers look at, so that a pasted novel costs
// nothing and error paths never echo or scan attacker-sized input.
const maxInputLen = 64

// Generate returns a uniformly random decimal code of the given length,
// leading zeros kept, so every code is equally likely.
func Generate(digits int) (string, error) {
	if digits < MinDigits || digits > MaxDigits {
		return "", fmt.Errorf("otp: code length %d outside %d–%d", digits, MinDigits, MaxDigits)
	}
	// rand.Int samples by rejection, so there is no modulo bias toward low codes.
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return "", fmt.Errorf("otp: reading randomness: %w", err)
	}
	return fmt.Sprintf("%0*d", digits, n.Int64()), nil
}

// Normalize turns what a user typed or pasted ("123 456", "123-456",
// " 123456\n") into bare ASCII digits, and reports false for anything that
// cannot be a code, so callers never hash or compare garbage.
func Normalize(input string) (string, bool) {
	if len(input) > maxInputLen {
		return "", false
	}
	input = strings.TrimSpace(input)
	var buf [MaxDigits]byte
	n := 0
	for i := 0; i < len(input); i++ {
		switch c := input[i]; {
		case c == ' ' || c == '-':
			// Separators that SMS apps, emails and people insert for readability.
		case c >= '0' && c <= '9':
			if n == len(buf) {
				return "", false
			}
			buf[n] = c
			n++
		default:
			return "", false
		}
	}
	if n < MinDigits {
		return "", false
	}
	return string(buf[:n]), true
}
