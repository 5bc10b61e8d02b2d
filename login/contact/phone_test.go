package contact

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		raw, region string
		want        string
		errHas      string // substring of the error; empty means success
	}{
		{"+14155550100", "", "+14155550100", ""},
		{"+1 415 555 0100", "", "+14155550100", ""},
		{"+1 (415) 555-0100", "GB", "+14155550100", ""},
		{"(415) 555-0100", "US", "+14155550100", ""},
		{"415.555.0100", "us", "+14155550100", ""},
		{"  tel:+14155550100\n", "", "+14155550100", ""},
		{"＋１ ４１５ ５５５ ０１００", "", "+14155550100", ""}, // full-width, as some keyboards type
		{"+442079460000", "", "+442079460000", ""},
		{"020 7946 0000", "GB", "+442079460000", ""},
		{"+447700123456", "", "+447700123456", ""},
		{"+33 6 12 34 56 78", "", "+33612345678", ""},
		{"+15005550006", "", "+15005550006", ""}, // Twilio's magic test number
		// The 555 area code and Ofcom's drama mobile range are fictional,
		// and libphonenumber knows it.
		{"+15551234567", "", "", "not a number in service"},
		{"+15555550100", "", "", "not a number in service"},
		{"5551234567", "US", "", "not a number in service"},
		{"+447700900123", "", "", "not a number in service"},
		{"4155550100", "", "", "needs a country code"},
		{"4155550100", "XX", "", "needs a country code"},
		{"+999 123456", "", "", "unknown country code"},
		{"+1 415 555 0100 ext. 12", "", "", "extension"},
		{"abc", "US", "", "is not a phone number"},
		{"+", "", "", "is not a phone number"},
		{"+4970429070460000", "", "", "more than 15 digits"},
		{"+٤٩٧٠٤٢٩٠٧٠٤٦٠٠٠٠", "", "", "more than 15 digits"}, // found by the fuzzer
		{"", "US", "", "empty"},
		{"   ", "US", "", "empty"},
		{"+1415555\x000100", "", "", "control or invalid"},
		{"+1415555\xff0100", "", "", "control or invalid"},
		{strings.Repeat("1", 65), "US", "", "longer than 64"},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.raw, tt.region)
		switch {
		case tt.errHas == "" && (err != nil || got != tt.want):
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tt.raw, tt.region, got, err, tt.want)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want error with %q", tt.raw, tt.region, got, err, tt.errHas)
		case err != nil && !errors.Is(err, ErrInvalidPhone):
			t.Errorf("NormalizePhone(%q) error %v does not wrap ErrInvalidPhone", tt.raw, err)
		}
	}
}

func TestNormalizePhoneErrorBounded(t *testing.T) {
	_, err := NormalizePhone(strings.Repeat("9", 10000), "US")
	if err == nil || len(err.Error()) > 100 {
		t.Fatalf("error for huge input: %v", err)
	}
}

func TestPhoneRegion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+14155550100", "US"},
		{"+16135550100", "CA"}, // same +1, told apart by area code
		{"+442079460000", "GB"},
		{"+447911123456", "GG"}, // a UK-looking mobile range that belongs to Guernsey
		{"+33612345678", "FR"},
		{"+80012345678", ""}, // non-geographic
		{"+15551234567", ""}, // fictional
		{"14155550100", ""},  // not E.164
		{"+1 415 555 0100", ""},
		{"", ""},
		{"garbage", ""},
	}
	for _, tt := range tests {
		if got := PhoneRegion(tt.in); got != tt.want {
			t.Errorf("PhoneRegion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+14155550167", "+1 ••• ••• •• 67"},
		{"+442079460012", "+44 •• •••• •• 12"},
		{"+33612345678", "+33 • •• •• •• 78"},
		{"+4930123456", "+49 •• •••• 56"},
		{"+819012345678", "+81 •• •••• •• 78"},
		{"+15551234567", "+1 ••• ••• •• 67"}, // parseable though not in service
		{"not a number 12345678", "•••• 78"},
		{"+12", "••••"},
		{"", "••••"},
		{strings.Repeat("1", 100), "••••"},
	}
	for _, tt := range tests {
		got := MaskPhone(tt.in)
		// The groups are joined by no-break spaces, so that a page never
		// wraps a number; the table writes them as spaces.
		if want := strings.ReplaceAll(tt.want, " ", "\u00a0"); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, want)
		}
		if !utf8.ValidString(got) || visibleDigits(got, tt.in) > 2 {
			t.Errorf("MaskPhone(%q) = %q reveals too much", tt.in, got)
		}
	}
}

// visibleDigits counts the digits of the masked national part, that is,
// after the country code.
func visibleDigits(masked, in string) int {
	if strings.HasPrefix(in, "+") && strings.HasPrefix(masked, "+") {
		_, masked, _ = strings.Cut(masked, " ")
	}
	n := 0
	for _, r := range masked {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
