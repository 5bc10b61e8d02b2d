package otp

import (
	"bytes"
	"fmt"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// rfcSecret is base32 of the ASCII secret "12345678901234567890" used by the
// SHA1 vectors of RFC 6238 Appendix B.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

var rfcVectors = []struct {
	unix int64
	code string // eight digits, as printed in the RFC
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestTOTPRFC6238(t *testing.T) {
	for _, v := range rfcVectors {
		at := time.Unix(v.unix, 0)
		eight, err := totp.GenerateCodeCustom(rfcSecret, at, totp.ValidateOpts{
			Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil || eight != v.code {
			t.Errorf("T=%d: 8-digit code %q, %v; want %q", v.unix, eight, err, v.code)
		}
		// Truncating to six digits keeps the last six of the eight.
		six, err := TOTPCode(rfcSecret, at)
		if want := v.code[2:]; err != nil || six != want {
			t.Errorf("T=%d: TOTPCode = %q, %v; want %q", v.unix, six, err, want)
		}
		step, ok := VerifyTOTP(rfcSecret, v.code[2:], at, 0)
		if !ok || step != v.unix/30 {
			t.Errorf("T=%d: VerifyTOTP = %d, %v; want %d, true", v.unix, step, ok, v.unix/30)
		}
	}
}

func TestVerifyTOTPWindow(t *testing.T) {
	now := time.Unix(1_700_000_015, 0) // middle of a step
	cur := now.Unix() / 30
	codeAt := func(offset int) string {
		c, err := TOTPCode(rfcSecret, now.Add(time.Duration(offset)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name     string
		code     string
		lastStep int64
		wantStep int64
		wantOK   bool
	}{
		{"current step", codeAt(0), 0, cur, true},
		{"one step behind", codeAt(-1), 0, cur - 1, true},
		{"one step ahead", codeAt(1), 0, cur + 1, true},
		{"two steps behind", codeAt(-2), 0, 0, false},
		{"two steps ahead", codeAt(2), 0, 0, false},
		{"spaced input", codeAt(0)[:3] + " " + codeAt(0)[3:], 0, cur, true},
		{"replay of accepted step", codeAt(0), cur, 0, false},
		{"older step after newer", codeAt(-1), cur, 0, false},
		{"older step after future", codeAt(0), cur + 1, 0, false},
		{"newer step after older", codeAt(1), cur, cur + 1, true},
		{"wrong code", wrongCode(codeAt(-1), codeAt(0), codeAt(1)), 0, 0, false},
		{"seven digits", codeAt(0) + "0", 0, 0, false},
		{"five digits", codeAt(0)[:5], 0, 0, false},
		{"letters", "abcdef", 0, 0, false},
		{"empty", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := VerifyTOTP(rfcSecret, tt.code, now, tt.lastStep)
			if step != tt.wantStep || ok != tt.wantOK {
				t.Errorf("VerifyTOTP(%q, last %d) = %d, %v; want %d, %v", tt.code, tt.lastStep, step, ok, tt.wantStep, tt.wantOK)
			}
		})
	}
}

// wrongCode returns a six-digit code different from all of the given ones.
func wrongCode(codes ...string) string {
	for n := 0; ; n++ {
		c := fmt.Sprintf("%06d", n)
		if !slices.Contains(codes, c) {
			return c
		}
	}
}

// TestVerifyTOTPReplaySequence plays a user signing in repeatedly, storing
// the returned step each time, as the login flow does.
func TestVerifyTOTPReplaySequence(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	var last int64
	for i := range 5 {
		now := start.Add(time.Duration(i) * 30 * time.Second)
		code, err := TOTPCode(rfcSecret, now)
		if err != nil {
			t.Fatal(err)
		}
		step, ok := VerifyTOTP(rfcSecret, code, now, last)
		if !ok || step <= last {
			t.Fatalf("sign-in %d: VerifyTOTP = %d, %v after %d", i, step, ok, last)
		}
		last = step
		// The same code again, even a few seconds later, must be refused.
		if _, ok := VerifyTOTP(rfcSecret, code, now.Add(5*time.Second), last); ok {
			t.Fatalf("sign-in %d: code replayed", i)
		}
	}
}

func TestVerifyTOTPBadSecret(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, secret := range []string{
		"",
		"not base32!",
		"GEZDGNBV",                         // 5 bytes, too short to be ours
		strings.Repeat("A", 200),           // over the length bound
		rfcSecret[:len(rfcSecret)-1] + "1", // 1 is not a base32 symbol
	} {
		if _, ok := VerifyTOTP(secret, "123456", now, 0); ok {
			t.Errorf("VerifyTOTP accepted secret %q", secret)
		}
		if _, err := TOTPCode(secret, now); err == nil {
			t.Errorf("TOTPCode accepted secret %q", secret)
		}
	}
	// Lower case and padding are tolerated, as authenticator exports vary.
	want, _ := TOTPCode(rfcSecret, now)
	for _, secret := range []string{strings.ToLower(rfcSecret), rfcSecret + "===="} {
		if got, err := TOTPCode(secret, now); err != nil || got != want {
			t.Errorf("TOTPCode(%q) = %q, %v; want %q", secret, got, err, want)
		}
	}
}

func TestTOTPBeforeEpoch(t *testing.T) {
	if _, err := TOTPCode(rfcSecret, time.Unix(-1, 0)); err == nil {
		t.Error("TOTPCode before the epoch: want error")
	}
	if _, ok := VerifyTOTP(rfcSecret, "123456", time.Unix(-100, 0), -10); ok {
		t.Error("VerifyTOTP before the epoch accepted a code")
	}
	if got := stepAt(time.Unix(-1, 0)); got != -1 {
		t.Errorf("stepAt(-1s) = %d, want -1", got)
	}
}

func TestNewTOTPSecret(t *testing.T) {
	a, err := NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewTOTPSecret()
	if len(a) != 32 || strings.Contains(a, "=") || a == b {
		t.Fatalf("NewTOTPSecret = %q, %q; want distinct 32-character unpadded base32", a, b)
	}
	if _, err := canonicalSecret(a); err != nil {
		t.Fatal(err)
	}
}

func TestTOTPURI(t *testing.T) {
	const tail = "&algorithm=SHA1&digits=6&period=30"
	tests := []struct {
		issuer, account string
		want            string
		roundTrip       bool // a colon cannot survive the label's issuer:account split
	}{
		{"Twofold", "alice@example.com",
			"otpauth://totp/Twofold:alice@example.com?secret=" + rfcSecret + "&issuer=Twofold" + tail, true},
		{"ACME Co", "bob+x@example.com",
			"otpauth://totp/ACME%20Co:bob+x@example.com?secret=" + rfcSecret + "&issuer=ACME%20Co" + tail, true},
		{"a&b=c", "e/f?g#h %",
			"otpauth://totp/a&b=c:e%2Ff%3Fg%23h%20%25?secret=" + rfcSecret + "&issuer=a%26b%3Dc" + tail, true},
		{"a:b", "c",
			"otpauth://totp/a%3Ab:c?secret=" + rfcSecret + "&issuer=a%3Ab" + tail, false},
	}
	for _, tt := range tests {
		got := TOTPURI(tt.issuer, tt.account, rfcSecret)
		if got != tt.want {
			t.Errorf("TOTPURI(%q, %q)\n got %s\nwant %s", tt.issuer, tt.account, got, tt.want)
		}
		if !tt.roundTrip {
			continue
		}
		// What an authenticator app reads back must be what we put in.
		key, err := otp.NewKeyFromURL(got)
		if err != nil {
			t.Fatal(err)
		}
		if key.Issuer() != tt.issuer || key.AccountName() != tt.account || key.Secret() != rfcSecret ||
			key.Digits() != otp.DigitsSix || key.Period() != 30 || key.Algorithm() != otp.AlgorithmSHA1 {
			t.Errorf("round trip of %s: issuer %q account %q secret %q", got, key.Issuer(), key.AccountName(), key.Secret())
		}
	}
}

func TestTOTPQRCodePNG(t *testing.T) {
	uri := TOTPURI("Twofold", "alice@example.com", rfcSecret)
	for _, size := range []int{200, 256, 333} {
		b, err := TOTPQRCodePNG(uri, size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if r := img.Bounds(); r.Dx() != size || r.Dy() != size {
			t.Errorf("size %d: image is %v", size, r)
		}
		// The quiet zone keeps the corners white.
		if isDark(img.At(0, 0)) || isDark(img.At(size-1, size-1)) {
			t.Errorf("size %d: corner is dark", size)
		}
	}
	for _, size := range []int{0, -1, 10, maxQRSize + 1} {
		if _, err := TOTPQRCodePNG(uri, size); err == nil {
			t.Errorf("size %d: want error", size)
		}
	}
	if _, err := TOTPQRCodePNG(strings.Repeat("x", 5000), 1024); err == nil {
		t.Error("oversized content: want error")
	}
}

func BenchmarkVerifyTOTP(b *testing.B) {
	now := time.Unix(1_700_000_000, 0)
	code, err := TOTPCode(rfcSecret, now)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, ok := VerifyTOTP(rfcSecret, code, now, 0); !ok {
			b.Fatal("VerifyTOTP failed")
		}
	}
}
