// Package password holds twofold's one password rule and its argon2id
// hasher, so that every way a password is set (the account page, the
// admin API, the command line, later reset and invitations) accepts the
// same passwords and stores them the same way. It imports nothing of
// twofold's: callers translate its errors into their own (a form message,
// an API error naming the field, a CLI flag).
package password

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Field is the name of the password in forms, API bodies and messages.
const Field = "password"

// MinLength is the default shortest password, in characters: NIST SP
// 800-63B's floor for a password chosen by its user.
const MinLength = 8

// MaxBytes bounds what is hashed: a password is at most 1,024 bytes of
// UTF-8 as typed, long enough for any passphrase and short enough that
// hashing it costs what hashing any other does.
const MaxBytes = 1024

// Reason says why a password was refused, for callers that word it
// themselves.
type Reason int

// The reasons a password is refused.
const (
	TooShort Reason = iota + 1
	TooLong
	NotUTF8
	SameAsUsername
	Blocked
)

// Error is a password the rule refuses. Message completes a sentence
// whose subject is the password ("must be at least 8 characters"), safe
// to show; it never contains the password.
type Error struct {
	Reason  Reason
	Message string
}

func (e *Error) Error() string { return Field + ": " + e.Message }

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Blocklist refuses passwords known to be weak (breached, common, or
// specific to this service). Nothing is shipped; an operator's build may
// set one, and Rule asks it after the other checks.
type Blocklist interface {
	// Blocked is given the password after NFKC normalisation.
	Blocked(normalized string) bool
}

// Rule is the password rule. The zero Rule is the default: at least
// MinLength characters, no blocklist.
type Rule struct {
	// MinLength is the fewest characters (Unicode code points after NFKC
	// normalisation); 0 means MinLength.
	MinLength int
	// Blocklist, when set, refuses what it lists.
	Blocklist Blocklist
}

// Min is the fewest characters the rule accepts.
func (r Rule) Min() int {
	if r.MinLength <= 0 {
		return MinLength
	}
	return r.MinLength
}

// Check applies the rule to a new password of the user named username
// (empty when there is none yet to compare with). Following NIST SP
// 800-63B 5.1.1.2, the length is counted in Unicode characters (code
// points) after NFKC normalisation, so that a character typed as a base
// letter and a combining mark, or as a full-width form, counts as the
// character people see; the password must be valid UTF-8 and at most
// MaxBytes as typed. It must not be the username, compared the same way
// and ignoring case: the one context-specific word every account has.
func (r Rule) Check(pw, username string) error {
	if !utf8.ValidString(pw) {
		return &Error{NotUTF8, "must be valid UTF-8 text"}
	}
	if len(pw) > MaxBytes {
		return &Error{TooLong, fmt.Sprintf("must be at most %s bytes", thousands(MaxBytes))}
	}
	normalized := norm.NFKC.String(pw)
	if utf8.RuneCountInString(normalized) < r.Min() {
		return &Error{TooShort, fmt.Sprintf("must be at least %d characters", r.Min())}
	}
	if username != "" && strings.EqualFold(normalized, norm.NFKC.String(username)) {
		return &Error{SameAsUsername, "must not be the username"}
	}
	if r.Blocklist != nil && r.Blocklist.Blocked(normalized) {
		return &Error{Blocked, "is too common or known from a breach; choose another"}
	}
	return nil
}

// thousands writes n with a comma between groups of three digits, as the
// documentation does ("1,024").
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
