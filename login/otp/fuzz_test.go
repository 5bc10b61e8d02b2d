package otp

import (
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "123-456", " 0123456789 ", "", "12345a", "１２３４５６", "\xff\xfe", "------"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, ok := Normalize(in)
		if !ok {
			return
		}
		if len(code) < MinDigits || len(code) > MaxDigits {
			t.Fatalf("Normalize(%q) = %q: bad length", in, code)
		}
		for i := range len(code) {
			if code[i] < '0' || code[i] > '9' {
				t.Fatalf("Normalize(%q) = %q: not digits", in, code)
			}
		}
		if again, ok := Normalize(code); !ok || again != code {
			t.Fatalf("Normalize not idempotent on %q", code)
		}
		rc, ok := NormalizeRecoveryCode(in)
		if ok && (len(rc) != recoveryLen || !utf8.ValidString(rc)) {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q", in, rc)
		}
	})
}

func FuzzVerify(f *testing.F) {
	h := testHasher(f)
	good := h.Hash("c1", "123456")
	f.Add(good, "c1", "123456", rfcSecret, int64(1_700_000_000), int64(0))
	f.Add(good, "c1", "123 456", "gezdgnbv", int64(59), int64(-1))
	f.Add("", "", "", "", int64(0), int64(0))
	f.Add(good[:2]+"\r"+good[2:], "c1", "123456", "", int64(0), int64(0)) // base64 decoders skip \r
	f.Add("!!", "\x00", "\xff", "====", int64(-1<<62), int64(1<<62))
	f.Fuzz(func(t *testing.T, hash, binding, code, secret string, unix, last int64) {
		if h.Verify(hash, binding, code) && hash != good {
			t.Fatalf("Verify accepted foreign hash %q", hash)
		}
		h.VerifyRecoveryCode(hash, binding, code)
		now := time.Unix(unix, 0)
		if step, ok := VerifyTOTP(secret, code, now, last); ok && (step <= last || step < stepAt(now)-totpSkew || step > stepAt(now)+totpSkew) {
			t.Fatalf("VerifyTOTP accepted step %d at %d after %d", step, stepAt(now), last)
		}
	})
}
