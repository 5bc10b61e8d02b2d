package storage_test

import (
	"testing"

	"github.com/twofold-id/twofold/storage"
)

func TestValidText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", true}, {"alice", true}, {"jörg ✓", true}, {"tab\tand\nnewline", true},
		{"a\x00b", false}, {"\x00", false}, {"a\xffb", false}, {"\xc3", false}, {"\xed\xa0\x80", false}, // a surrogate
	} {
		if got := storage.ValidText(tc.in); got != tc.want {
			t.Errorf("ValidText(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestInvalidField(t *testing.T) {
	for _, tc := range []struct {
		form  map[string][]string
		name  string
		found bool
	}{
		{map[string][]string{"a": {"x"}, "b": {"y", "z"}}, "", false},
		{map[string][]string{"state": {"ok"}, "nonce": {"n\x00"}}, "nonce", true},
		{map[string][]string{"z": {"\xff"}, "a": {"\xff"}}, "a", true},
		{map[string][]string{"k\xff": {"v"}}, "", true},
		{map[string][]string{"b": {"ok", "\x00"}}, "b", true},
	} {
		name, found := storage.InvalidField(tc.form)
		if name != tc.name || found != tc.found {
			t.Errorf("InvalidField(%q) = %q %v, want %q %v", tc.form, name, found, tc.name, tc.found)
		}
	}
}
