package storage

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// ValidText reports whether s can go into a text column of every database
// twofold supports: valid UTF-8 without NUL. PostgreSQL refuses both with
// an error (which would surface as a 500 that anyone can trigger), and
// SQLite stores them but hands back something else. The HTTP edges refuse
// such input as the caller's mistake before it reaches a query; lookups by
// id answer ErrNotFound for it, because some ids come from tokens that
// zitadel/oidc decrypts, and a forged token decrypts to random bytes.
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// InvalidField returns the name of the first field (in sorted order) of a
// form whose name or one of whose values is not ValidText. The name is ""
// when the name itself is the invalid part, so it can be quoted safely.
func InvalidField(form map[string][]string) (name string, found bool) {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !ValidText(k) {
			return "", true
		}
		for _, v := range form[k] {
			if !ValidText(v) {
				return k, true
			}
		}
	}
	return "", false
}
