package otp

import (
	"bytes"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	for digits := MinDigits; digits <= MaxDigits; digits++ {
		for range 50 {
			code, err := Generate(digits)
			if err != nil {
				t.Fatalf("Generate(%d): %v", digits, err)
			}
			if got, ok := Normalize(code); !ok || got != code || len(code) != digits {
				t.Fatalf("Generate(%d) = %q, not %d plain digits", digits, code, digits)
			}
		}
	}
	for _, bad := range []int{-1, 0, 5, 11, 100} {
		if _, err := Generate(bad); err == nil {
			t.Errorf("Generate(%d): want error", bad)
		}
	}
}

// TestGenerateUniform catches gross bias, such as dropped leading zeros or a
// modulo skew, by checking every leading digit appears about equally often.
func TestGenerateUniform(t *testing.T) {
	const n = 20000
	var counts [10]int
	for range n {
		code, err := Generate(6)
		if err != nil {
			t.Fatal(err)
		}
		counts[code[0]-'0']++
	}
	for d, c := range counts {
		// Expected 2000, standard deviation ≈ 42; 300 is over 7σ.
		if c < n/10-300 || c > n/10+300 {
			t.Errorf("leading digit %d seen %d times of %d", d, c, n)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"123456", "123456", true},
		{"123 456", "123456", true},
		{"123-456", "123456", true},
		{"  123456\n", "123456", true},
		{"\t12 34-56 ", "123456", true},
		{"0000000000", "0000000000", true},
		{"012345", "012345", true},
		{"12345", "", false},
		{"12345678901", "", false},
		{"", "", false},
		{"   ", "", false},
		{"------", "", false},
		{"12345a", "", false},
		{"123_456", "", false},
		{"１２３４５６", "", false}, // full-width digits are not accepted
		{"١٢٣٤٥٦", "", false}, // nor Arabic-Indic ones
		{"123456\x00", "", false},
		{"123\n456", "", false},
		{strings.Repeat(" ", 58) + "123456", "123456", true}, // 64 bytes, at the bound
		{strings.Repeat(" ", 59) + "123456", "", false},      // 65 bytes, over it
	}
	for _, tt := range tests {
		got, ok := Normalize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func testHasher(t testing.TB) *Hasher {
	t.Helper()
	h, err := NewHasher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNewHasher(t *testing.T) {
	for _, n := range []int{0, 16, 31} {
		if _, err := NewHasher(make([]byte, n)); err == nil {
			t.Errorf("NewHasher(%d bytes): want error", n)
		}
	}
	key := bytes.Repeat([]byte{1}, 32)
	h, err := NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	before := h.Hash("c1", "123456")
	key[0] = 2 // the caller reusing its buffer must not change our key
	if h.Hash("c1", "123456") != before {
		t.Error("Hasher aliases the caller's key slice")
	}
}

func TestHasher(t *testing.T) {
	h := testHasher(t)
	other, err := NewHasher(bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	stored := h.Hash("challenge-1", "123456")
	if strings.ContainsAny(stored, "+/=") || len(stored) != 43 {
		t.Fatalf("Hash = %q, want 43 characters of unpadded base64url", stored)
	}
	tests := []struct {
		name          string
		h             *Hasher
		hash, binding string
		code          string
		want          bool
	}{
		{"exact", h, stored, "challenge-1", "123456", true},
		{"spaced", h, stored, "challenge-1", "123 456", true},
		{"hyphen and newline", h, stored, "challenge-1", "123-456\n", true},
		{"wrong code", h, stored, "challenge-1", "123457", false},
		{"other challenge", h, stored, "challenge-2", "123456", false},
		{"other key", other, stored, "challenge-1", "123456", false},
		{"malformed code", h, stored, "challenge-1", "12345x", false},
		{"empty code", h, stored, "challenge-1", "", false},
		{"hash not base64", h, "!!!", "challenge-1", "123456", false},
		{"hash truncated", h, stored[:40], "challenge-1", "123456", false},
		{"empty hash", h, "", "challenge-1", "123456", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Verify(tt.hash, tt.binding, tt.code); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHashFraming checks that field boundaries are part of the MAC input.
func TestHashFraming(t *testing.T) {
	h := testHasher(t)
	pairs := [][2][2]string{
		{{"ab", "c"}, {"a", "bc"}},
		{{"", "123456"}, {"1", "23456"}},
		{{"x\x00", "123456"}, {"x", "\x00123456"}},
	}
	for _, p := range pairs {
		if h.Hash(p[0][0], p[0][1]) == h.Hash(p[1][0], p[1][1]) {
			t.Errorf("Hash(%q, %q) == Hash(%q, %q)", p[0][0], p[0][1], p[1][0], p[1][1])
		}
	}
	if h.Hash("a", "123456") != h.Hash("a", "123456") {
		t.Error("Hash is not deterministic")
	}
}

func TestHasherRecoveryCode(t *testing.T) {
	h := testHasher(t)
	codes, err := GenerateRecoveryCodes(1)
	if err != nil {
		t.Fatal(err)
	}
	norm, ok := NormalizeRecoveryCode(codes[0])
	if !ok {
		t.Fatalf("NormalizeRecoveryCode(%q) failed", codes[0])
	}
	stored := h.Hash("user-1", norm)
	for _, in := range []string{codes[0], strings.ToUpper(codes[0]), norm, " " + codes[0][:3] + " " + codes[0][3:]} {
		if !h.VerifyRecoveryCode(stored, "user-1", in) {
			t.Errorf("VerifyRecoveryCode(%q) = false", in)
		}
	}
	if h.VerifyRecoveryCode(stored, "user-2", codes[0]) {
		t.Error("recovery code verified for another user")
	}
	if h.Verify(stored, "user-1", codes[0]) {
		t.Error("recovery code accepted by Verify, which expects digits")
	}
}

func BenchmarkHasherVerify(b *testing.B) {
	h := testHasher(b)
	stored := h.Hash("challenge-1", "123456")
	for b.Loop() {
		if !h.Verify(stored, "challenge-1", "123 456") {
			b.Fatal("Verify failed")
		}
	}
}
