package contact

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com"
	tests := []struct {
		raw    string
		want   string
		errHas string // substring of the error; empty means success
	}{
		{"alice@example.com", "alice@example.com", ""},
		{"Alice@Example.COM", "Alice@example.com", ""}, // local part keeps its case
		{" bob@example.com\n", "bob@example.com", ""},
		{"a+tag@sub.Example.org", "a+tag@sub.example.org", ""},
		{"jörg@bücher.DE", "jörg@bücher.de", ""},
		{long, long, ""},
		{"", "", "empty"},
		{" \t ", "", "empty"},
		{"Bob <bob@example.com>", "", "just the address"},
		{"<bob@example.com>", "", "just the address"},
		{"bob@example.com (work)", "", "just the address"},
		{`"a b"@example.com`, "", "just the address"},
		{"a@example.com, b@example.com", "", "just the address"},
		{"a@b@example.com", "", "just the address"},
		{"a..b@example.com", "", "just the address"},
		{"a@example.com.", "", "just the address"},
		{"no-at-sign", "", "just the address"},
		{"a@[192.0.2.1]", "", "not an IP address"},
		{"a@localhost", "", "needs a dot"},
		{"a@-example.com", "", "malformed"},
		{"a@example-.com", "", "malformed"},
		{"a@" + strings.Repeat("b", 64) + ".com", "", "malformed"},
		{"a\x00b@example.com", "", "control"},
		{"a@exa\u0085mple.com", "", "control"},
		{"a\xffb@example.com", "", "invalid characters"},
		{strings.Repeat("a", 65) + "@example.com", "", "before @"},
		{long + "x", "", "longer than 254"},
		{strings.Repeat(" ", 2000) + "a@example.com", "", "longer than 254"},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.raw)
		switch {
		case tt.errHas == "" && (err != nil || got != tt.want):
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("NormalizeEmail(%q) = %q, %v; want error with %q", tt.raw, got, err, tt.errHas)
		case err != nil && !errors.Is(err, ErrInvalidEmail):
			t.Errorf("NormalizeEmail(%q) error %v does not wrap ErrInvalidEmail", tt.raw, err)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@example.com", "a•••@example.com"},
		{"a@example.com", "a•••@example.com"},
		{"jörg@bücher.de", "j•••@bücher.de"},
		{"émile@example.fr", "é•••@example.fr"},
		{"a@b@example.com", "a•••@example.com"},
		{"\x00x@example.com", "••••@example.com"},
		{"@example.com", "•••"},
		{"no-at-sign", "•••"},
		{"", "•••"},
	}
	for _, tt := range tests {
		if got := MaskEmail(tt.in); got != tt.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
