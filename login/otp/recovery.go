package otp

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// recoveryAlphabet leaves out 0, 1, i, l and o, which people misread on paper
// or in a password manager. 31 symbols × 10 characters ≈ 49.5 bits per code,
// ample for a single-use, rate-limited, keyed-hash-stored secret.
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// recoveryLen is the number of symbols in a recovery code, without the hyphen.
const recoveryLen = 10

// maxRecoveryCodes bounds one batch; a user needs a handful, not thousands.
const maxRecoveryCodes = 100

// GenerateRecoveryCodes returns n distinct recovery codes formatted
// "xxxxx-xxxxx" for display; store their hashes of the normalised form
// (see NormalizeRecoveryCode and Hasher).
func GenerateRecoveryCodes(n int) ([]string, error) {
	if n < 1 || n > maxRecoveryCodes {
		return nil, fmt.Errorf("otp: recovery code count %d outside 1–%d", n, maxRecoveryCodes)
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for len(codes) < n {
		c, err := randomRecoveryCode()
		if err != nil {
			return nil, err
		}
		if seen[c] {
			continue // astronomically rare, but duplicates would waste a code
		}
		seen[c] = true
		codes = append(codes, c[:recoveryLen/2]+"-"+c[recoveryLen/2:])
	}
	return codes, nil
}

// randomRecoveryCode draws symbols by rejection sampling: bytes ≥ 248 (the
// largest multiple of 31 below 256) are discarded so every symbol is equally
// likely.
func randomRecoveryCode() (string, error) {
	const limit = 256 - 256%len(recoveryAlphabet)
	out := make([]byte, 0, recoveryLen)
	var buf [2 * recoveryLen]byte
	for len(out) < recoveryLen {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("otp: reading randomness: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < recoveryLen {
				out = append(out, recoveryAlphabet[int(b)%len(recoveryAlphabet)])
			}
		}
	}
	return string(out), nil
}

// NormalizeRecoveryCode turns a typed or pasted recovery code ("ABCDE-FGHJK",
// "abcde fghjk") into its stored form, ten lower-case symbols, and reports
// false for anything that cannot be one.
func NormalizeRecoveryCode(s string) (string, bool) {
	if len(s) > maxInputLen {
		return "", false
	}
	s = strings.TrimSpace(s)
	out := make([]byte, 0, recoveryLen)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if strings.IndexByte(recoveryAlphabet, c) < 0 || len(out) == recoveryLen {
			return "", false
		}
		out = append(out, c)
	}
	if len(out) != recoveryLen {
		return "", false
	}
	return string(out), true
}
