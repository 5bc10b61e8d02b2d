package contact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+14155550100", "(415) 555-0100", "+44 20 7946 0000", "tel:+1-415-555-0100;ext=1", "1-800-FLOWERS", "＋１４１５５５５０１００", "+٤٤٢٠٧٩٤٦٠٠٠٠", "++", "+0", "\x00", "+999999999999999999999"} {
		f.Add(s, "US")
	}
	f.Add("020 7946 0000", "GB")
	f.Add("4155550100", "")
	f.Add("\x00\x1a\x1e\xa2\xa2\xa2\x1d\x1d", "0") // once quoted into a 250-byte error
	f.Fuzz(func(t *testing.T, raw, region string) {
		e164, err := NormalizePhone(raw, region)
		if err != nil {
			if len(err.Error()) > 250 {
				t.Fatalf("error too long: %d bytes", len(err.Error()))
			}
			return
		}
		if !strings.HasPrefix(e164, "+") || len(e164) > 16 {
			t.Fatalf("NormalizePhone(%q) = %q: not E.164", raw, e164)
		}
		if again, err := NormalizePhone(e164, "ZZ"); err != nil || again != e164 {
			t.Fatalf("NormalizePhone not idempotent on %q: %q, %v", e164, again, err)
		}
		if masked := MaskPhone(e164); !utf8.ValidString(masked) || visibleDigits(masked, e164) > 2 {
			t.Fatalf("MaskPhone(%q) = %q", e164, masked)
		}
		_ = PhoneRegion(e164)
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"alice@example.com", "Bob <bob@example.com>", `"a b"@example.com`, "a@[1.2.3.4]", "jörg@bücher.DE", "a@b", "@", "a@b@c.d", "\xff@x.y", "=?utf-8?q?a?=@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		addr, err := NormalizeEmail(raw)
		masked := MaskEmail(raw)
		if err != nil {
			if len(err.Error()) > 1200 {
				t.Fatalf("error too long: %d bytes", len(err.Error()))
			}
			return
		}
		if len(addr) > maxEmailLen || !utf8.ValidString(addr) {
			t.Fatalf("NormalizeEmail(%q) = %q", raw, addr)
		}
		if again, err := NormalizeEmail(addr); err != nil || again != addr {
			t.Fatalf("NormalizeEmail not idempotent on %q: %q, %v", addr, again, err)
		}
		if domain := addr[strings.LastIndexByte(addr, '@')+1:]; domain != strings.ToLower(domain) {
			t.Fatalf("domain of %q not lower-case", addr)
		}
		if masked = MaskEmail(addr); !strings.HasSuffix(masked, addr[strings.LastIndexByte(addr, '@'):]) {
			t.Fatalf("MaskEmail(%q) = %q", addr, masked)
		}
	})
}
