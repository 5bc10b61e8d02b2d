package contact

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidEmail is wrapped by every NormalizeEmail error, so handlers can
// tell bad input from a bug with errors.Is.
var ErrInvalidEmail = errors.New("not a valid email address")

// Limits from RFC 5321 §4.5.3.1 (a path is at most 256 octets including the
// angle brackets, so an address is at most 254) and the local-part limit.
const (
	maxEmailLen = 254
	maxLocalLen = 64
	// maxEmailInput bounds the raw input before trimming, so surrounding
	// whitespace cannot make us scan megabytes.
	maxEmailInput = 1024
)

// NormalizeEmail checks that raw is one bare address ("name@example.com")
// and returns it with the domain lower-cased. The local part keeps its case,
// because RFC 5321 lets the receiving server treat it as significant.
// Display names, angle brackets, comments, quoted local parts, domain
// literals and dotless domains are refused: each is legal in a mail header
// but wrong in an account's delivery address.
func NormalizeEmail(raw string) (string, error) {
	if len(raw) > maxEmailInput {
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidEmail, maxEmailLen)
	}
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: it is empty", ErrInvalidEmail)
	case len(s) > maxEmailLen:
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidEmail, maxEmailLen)
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		// Not echoed: quoting would blow the message up several times over.
		return "", fmt.Errorf("%w: it contains control or invalid characters", ErrInvalidEmail)
	}
	addr, err := mail.ParseAddress(s)
	// An exact round trip rules out names, <…>, comments and quoting, which
	// ParseAddress accepts and strips; the remainder is a plain addr-spec.
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", fmt.Errorf("%w: %q; enter just the address, like name@example.com", ErrInvalidEmail, s)
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	switch {
	case len(local) > maxLocalLen:
		return "", fmt.Errorf("%w: the part before @ is longer than %d characters", ErrInvalidEmail, maxLocalLen)
	case strings.HasPrefix(domain, "["):
		return "", fmt.Errorf("%w: %q; use a domain name, not an IP address", ErrInvalidEmail, s)
	case !strings.Contains(domain, "."):
		// Dotless domains are not deliverable on the public internet (RFC 7085).
		return "", fmt.Errorf("%w: %q; the domain needs a dot, like example.com", ErrInvalidEmail, s)
	case !validLabels(domain):
		return "", fmt.Errorf("%w: %q; the domain name is malformed", ErrInvalidEmail, s)
	}
	return local + "@" + strings.ToLower(domain), nil
}

// MaskEmail returns addr for display with only the first character of the
// local part and the domain visible ("a•••@example.com"); the bullet count is
// fixed so it does not leak the length.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return strings.Repeat(bullet, 3)
	}
	first, _ := utf8.DecodeRuneInString(addr)
	if first == utf8.RuneError || !unicode.IsPrint(first) {
		first = '•'
	}
	return string(first) + strings.Repeat(bullet, 3) + addr[at:]
}

// validLabels applies the DNS rules ParseAddress does not: labels of at most
// 63 octets that neither start nor end with a hyphen (RFC 1035 §2.3.1).
func validLabels(domain string) bool {
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
	}
	return true
}
