package admin

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/twofold-id/twofold/login"
)

// MinPasswordLength is the shortest password an admin may set.
const MinPasswordLength = 8

// CheckPassword applies the password rules of every way a password is set
// (CLI and API): 8 characters to 1024 bytes of valid UTF-8.
func CheckPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return errors.New("at least 8 characters")
	case len(pw) > login.MaxPasswordBytes:
		return fmt.Errorf("at most %d bytes", login.MaxPasswordBytes)
	case !utf8.ValidString(pw):
		return errors.New("not valid UTF-8")
	}
	return nil
}

// CheckUsername applies the username rules: 1 to 256 bytes, no spaces or
// control characters.
func CheckUsername(name string) error {
	if name == "" || len(name) > login.MaxUsernameBytes || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("1 to %d characters without spaces or control characters", login.MaxUsernameBytes)
	}
	return nil
}
