package otp

import (
	"strings"
	"testing"
)

func TestGenerateRecoveryCodes(t *testing.T) {
	codes, err := GenerateRecoveryCodes(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Fatalf("got %d codes, want 10", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 11 || c[5] != '-' {
			t.Errorf("code %q is not xxxxx-xxxxx", c)
		}
		if strings.ContainsAny(c, "01ilo") {
			t.Errorf("code %q holds an ambiguous character", c)
		}
		norm, ok := NormalizeRecoveryCode(c)
		if !ok || norm != c[:5]+c[6:] {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, %v", c, norm, ok)
		}
		if seen[c] {
			t.Errorf("duplicate code %q", c)
		}
		seen[c] = true
	}
	for _, n := range []int{0, -1, maxRecoveryCodes + 1} {
		if _, err := GenerateRecoveryCodes(n); err == nil {
			t.Errorf("GenerateRecoveryCodes(%d): want error", n)
		}
	}
}

// TestRecoveryAlphabetCoverage checks that sampling reaches every symbol,
// which an off-by-one in the rejection bound would break.
func TestRecoveryAlphabetCoverage(t *testing.T) {
	codes, err := GenerateRecoveryCodes(maxRecoveryCodes)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(codes, "")
	for _, c := range recoveryAlphabet {
		if !strings.ContainsRune(all, c) {
			t.Errorf("symbol %q never drawn in %d codes", c, len(codes))
		}
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"abcde-fghjk", "abcdefghjk", true},
		{"ABCDE-FGHJK", "abcdefghjk", true},
		{" abcde fghjk\n", "abcdefghjk", true},
		{"abcdefghjk", "abcdefghjk", true},
		{"ab-cd-ef-gh-jk", "abcdefghjk", true},
		{"abcde-fghj", "", false},   // too short
		{"abcde-fghjkm", "", false}, // too long
		{"abcde-fghj0", "", false},  // 0 is not in the alphabet
		{"abcde-fghjo", "", false},  // nor o
		{"abcde-fghji", "", false},  // nor i
		{"abcde-fghjl", "", false},  // nor l
		{"abcde-fghj1", "", false},  // nor 1
		{"abcde_fghjk", "", false},  // underscore is not a separator
		{"abcdé-fghjk", "", false},  // nor is anything beyond ASCII
		{"", "", false},
		{strings.Repeat(" ", 60) + "abcdefghjk", "", false}, // over the input bound
	}
	for _, tt := range tests {
		got, ok := NormalizeRecoveryCode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
