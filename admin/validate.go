package admin

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/twofold-id/twofold/storage"
)

// checkUsername applies the username rules: 1 to 256 bytes, no spaces or
// control characters.
func checkUsername(name string) error {
	if name == "" || len(name) > storage.MaxUsernameBytes || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("1 to %d characters without spaces or control characters", storage.MaxUsernameBytes)
	}
	return nil
}
