package login

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStorableText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Mozilla/5.0", 256, "Mozilla/5.0"},
		{"a\xffb", 256, "a\uFFFDb"},
		{"a\x00b", 256, "ab"},
		{"abcdef", 3, "abc"},
		{"xé", 2, "x"}, // é is two bytes: never half of it
		{"x" + strings.Repeat("é", 200), 256, "x" + strings.Repeat("é", 127)},
	} {
		got := storableText(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) || len(got) > tc.n {
			t.Errorf("storableText(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
