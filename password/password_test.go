package password

import (
	"strings"
	"testing"
)

// listed is a blocklist of the passwords it holds.
type listed []string

func (l listed) Blocked(normalized string) bool {
	for _, p := range l {
		if strings.EqualFold(p, normalized) {
			return true
		}
	}
	return false
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, pw, username string
		rule               Rule
		want               Reason // 0: accepted
	}{
		{name: "eight ASCII letters", pw: "abcdefgh"},
		{name: "seven ASCII letters", pw: "abcdefg", want: TooShort},
		{name: "empty", pw: "", want: TooShort},
		// e + U+0301 composes to é under NFKC: 16 code points typed, 8 characters counted.
		{name: "eight combining sequences", pw: strings.Repeat("e\u0301", 8)},
		{name: "four combining sequences are four characters", pw: strings.Repeat("e\u0301", 4), want: TooShort},
		// q + U+0301 has no composed form: it stays two code points.
		{name: "uncomposable combining marks count as typed", pw: strings.Repeat("q\u0301", 4)},
		{name: "full-width letters", pw: "ｐａｓｓｗｏｒｄ"},                                                    // NFKC: "password"
		{name: "ligature expands under NFKC", pw: "\ufb03\ufb03\ufb03"},                                 // ﬃ → ffi: 9 characters
		{name: "ligatures typed as four", pw: "\ufb03abc", want: TooShort},                              // ffiabc: 6
		{name: "emoji count one each", pw: strings.Repeat("\U0001F600", 8)},                             // 32 bytes, 8 characters
		{name: "seven emoji are seven characters", pw: strings.Repeat("\U0001F600", 7), want: TooShort}, // 28 bytes
		{name: "invalid UTF-8", pw: "abcdefgh\xff", want: NotUTF8},
		{name: "a lone surrogate encoded", pw: "abcdefgh\xed\xa0\x80", want: NotUTF8},
		{name: "1,024 bytes", pw: strings.Repeat("a", 1024)},
		{name: "1,025 bytes", pw: strings.Repeat("a", 1025), want: TooLong},
		{name: "1,025 bytes of multi-byte characters", pw: strings.Repeat("é", 512) + "a", want: TooLong},
		{name: "the username", pw: "alice-in-chains", username: "alice-in-chains", want: SameAsUsername},
		{name: "the username in other case", pw: "Alice-In-Chains", username: "alice-in-chains", want: SameAsUsername},
		{name: "the username in full width", pw: "ａｌｉｃｅ-ｉｎ-ｃｈａｉｎｓ", username: "alice-in-chains", want: SameAsUsername},
		{name: "containing the username", pw: "alice-in-chains!", username: "alice-in-chains"},
		{name: "a configured minimum", pw: "abcdefghijk", rule: Rule{MinLength: 12}, want: TooShort},
		{name: "at a configured minimum", pw: "abcdefghijkl", rule: Rule{MinLength: 12}},
		{name: "blocked", pw: "letmein123", rule: Rule{Blocklist: listed{"letmein123"}}, want: Blocked},
		{name: "blocked after NFKC", pw: "ｌｅｔｍｅｉｎ１２３", rule: Rule{Blocklist: listed{"letmein123"}}, want: Blocked},
		{name: "not blocked", pw: "letmein1234", rule: Rule{Blocklist: listed{"letmein123"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rule.Check(tc.pw, tc.username)
			if tc.want == 0 {
				if err != nil {
					t.Fatalf("Check = %v, want accepted", err)
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Reason != tc.want {
				t.Fatalf("Check = %v, want reason %d", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "password: ") || e.Message == "" {
				t.Errorf("error %q does not name the field", err)
			}
			if tc.pw != "" && strings.Contains(err.Error(), tc.pw) {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	for pw, want := range map[string]string{
		"short":                   "password: must be at least 8 characters",
		strings.Repeat("x", 2000): "password: must be at most 1,024 bytes",
		"\xff\xfe":                "password: must be valid UTF-8 text",
	} {
		if err := (Rule{}).Check(pw, ""); err == nil || err.Error() != want {
			t.Errorf("Check(%.10q) = %v, want %q", pw, err, want)
		}
	}
	if got := (Rule{MinLength: 12}).Min(); got != 12 {
		t.Errorf("Min = %d, want 12", got)
	}
	if got := (Rule{}).Min(); got != MinLength {
		t.Errorf("the zero Rule's Min = %d, want %d", got, MinLength)
	}
}
