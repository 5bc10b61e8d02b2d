// Package contact normalises and masks the phone numbers and email addresses
// that one-time codes are delivered to.
//
// Normalised forms (E.164 for phones, a bare address with a lower-case domain
// for email) are what get stored and compared, so "(415) 555-0100" and
// "+1 415 555 0100" are one number. Masked forms are what pages and logs show,
// so a screen over someone's shoulder, or a log line, does not give the
// destination away. Error messages are written for the person typing and
// never echo more than a bounded input.
package contact

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalidPhone is wrapped by every NormalizePhone error, so handlers can
// tell bad input from a bug with errors.Is.
var ErrInvalidPhone = errors.New("not a valid phone number")

// maxPhoneInput bounds the input before libphonenumber sees it: real numbers,
// even formatted with a country code, fit in a fraction of this.
const maxPhoneInput = 64

// maxE164Digits is the ITU-T E.164 limit, country code included.
const maxE164Digits = 15

// bullet hides a character in masked output.
const bullet = "•"

// groupSep separates the groups of a masked number: a no-break space, so a
// page never wraps a number in the middle ("+1 ••• ••• •• 00" stays whole).
const groupSep = "\u00a0"

// NormalizePhone parses a number as a user typed it, reading numbers without
// a leading + in defaultRegion (an ISO 3166 code such as "US"), and returns it
// in E.164 ("+14155550100") if libphonenumber considers it a number in
// service. Numbers with an extension are refused, since no code can reach one.
func NormalizePhone(raw, defaultRegion string) (string, error) {
	if len(raw) > maxPhoneInput {
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidPhone, maxPhoneInput)
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("%w: it is empty", ErrInvalidPhone)
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		// Not echoed: quoting would blow the message up several times over.
		return "", fmt.Errorf("%w: it contains control or invalid characters", ErrInvalidPhone)
	}
	num, err := phonenumbers.Parse(s, strings.ToUpper(defaultRegion))
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode) && !strings.HasPrefix(s, "+"):
		return "", fmt.Errorf("%w: %q needs a country code, starting with +", ErrInvalidPhone, s)
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return "", fmt.Errorf("%w: %q has an unknown country code", ErrInvalidPhone, s)
	case err != nil:
		return "", fmt.Errorf("%w: %q is not a phone number", ErrInvalidPhone, s)
	}
	if num.GetExtension() != "" {
		return "", fmt.Errorf("%w: %q has an extension, which cannot receive codes", ErrInvalidPhone, s)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: %q is not a number in service", ErrInvalidPhone, s)
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if len(e164)-1 > maxE164Digits {
		// libphonenumber's metadata admits some longer German numbers, but
		// E.164, and so every SMS and voice API, stops at 15 digits.
		return "", fmt.Errorf("%w: %q has more than %d digits", ErrInvalidPhone, s, maxE164Digits)
	}
	return e164, nil
}

// PhoneRegion returns the ISO 3166 region of a number ("US", "GB"), for the
// country allow-list. It is empty for an invalid number and for
// non-geographic ones such as +800, which an allow-list should refuse.
// Note that numbers sharing a country code are told apart by their prefix:
// +1 covers US, CA and much of the Caribbean, +44 7911 is GG.
func PhoneRegion(e164 string) string {
	num, ok := parseE164(e164)
	if !ok {
		return ""
	}
	region := phonenumbers.GetRegionCodeForNumber(num)
	if len(region) != 2 || region == phonenumbers.UNKNOWN_REGION {
		return ""
	}
	return region
}

// MaskPhone returns e164 for display with only the country code and the last
// two digits visible, grouped like the national format ("+1 ••• ••• •• 00")
// with no-break spaces, so the user recognises their number and an onlooker
// learns little.
func MaskPhone(e164 string) string {
	num, ok := parseE164(e164)
	if !ok {
		return maskDigits(e164)
	}
	intl := phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
	cc, national, ok := strings.Cut(intl, " ")
	if !ok {
		return maskDigits(e164)
	}
	digits := 0
	for _, r := range national {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	var b strings.Builder
	b.WriteString(cc)
	b.WriteString(groupSep)
	seen := 0
	for _, r := range national {
		switch {
		case r >= '0' && r <= '9':
			seen++
			if seen == digits-1 && !strings.HasSuffix(b.String(), groupSep) {
				b.WriteString(groupSep) // set the visible pair apart, as in "•• 00"
			}
			if seen > digits-2 {
				b.WriteRune(r)
			} else {
				b.WriteString(bullet)
			}
		case !strings.HasSuffix(b.String(), groupSep):
			// Hyphens, dots and parentheses become plain group breaks.
			b.WriteString(groupSep)
		}
	}
	return b.String()
}

// parseE164 parses a stored number; it accepts only the canonical form so
// that display helpers never guess a region.
func parseE164(e164 string) (*phonenumbers.PhoneNumber, bool) {
	if len(e164) > maxPhoneInput || !strings.HasPrefix(e164, "+") {
		return nil, false
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil || phonenumbers.Format(num, phonenumbers.E164) != e164 {
		return nil, false
	}
	return num, true
}

// maskDigits is the fallback for input that is not E.164: it still shows at
// most the last two digits, and only when there are enough to hide the rest.
func maskDigits(s string) string {
	if len(s) > maxPhoneInput {
		return strings.Repeat(bullet, 4)
	}
	var digits []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
		}
	}
	if len(digits) < 6 {
		return strings.Repeat(bullet, 4)
	}
	return strings.Repeat(bullet, 4) + groupSep + string(digits[len(digits)-2:])
}
