package storage

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Method is a way of proving the second factor. It lives here, on the
// lowest floor, because the records carry it (SecondFactor, Challenge,
// Policy); every package above names methods through these constants.
type Method string

// The second-factor methods.
const (
	MethodSMS   Method = "sms"   // a code by text message
	MethodVoice Method = "voice" // a code read out in a phone call
	MethodEmail Method = "email" // a code by email
	MethodTOTP  Method = "totp"  // a code from an authenticator app
	// MethodRecovery is a recovery code. It is not a SecondFactor record,
	// a challenge or a policy's choice (recovery codes are always at hand
	// once generated), so ParseMethod refuses it; it names the factor of a
	// failed guess in the metrics and the backoff.
	MethodRecovery Method = "recovery"
)

// Methods returns every method a SecondFactor can have and a policy can
// allow, in the order the pages list them.
func Methods() []Method { return []Method{MethodSMS, MethodVoice, MethodEmail, MethodTOTP} }

// ParseMethod returns the method s names, or an error saying which names
// there are; the caller adds the field.
func ParseMethod(s string) (Method, error) {
	m := Method(s)
	if !m.Valid() {
		return "", fmt.Errorf("%q is not one of %s", s, MethodNames())
	}
	return m, nil
}

// MethodNames lists Methods for messages: "sms, voice, email, totp".
func MethodNames() string { return MethodList(Methods()).Join(", ") }

// Valid reports whether m is one of Methods.
func (m Method) Valid() bool { return slices.Contains(Methods(), m) }

// SendsCode reports whether m delivers a one-time code (SMS, a call or
// email), as opposed to an authenticator app.
func (m Method) SendsCode() bool { return m == MethodSMS || m == MethodVoice || m == MethodEmail }

// MethodList is a []Method kept in one text column as JSON, like
// StringList (the same column format).
type MethodList []Method

// Value implements driver.Valuer.
func (l MethodList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]Method(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *MethodList) Scan(src any) error {
	var s StringList
	if err := s.Scan(src); err != nil {
		return fmt.Errorf("MethodList: %w", err)
	}
	*l = nil
	for _, v := range s {
		*l = append(*l, Method(v))
	}
	return nil
}

// Join joins the methods' names with sep, as strings.Join does.
func (l MethodList) Join(sep string) string {
	names := make([]string, len(l))
	for i, m := range l {
		names[i] = string(m)
	}
	return strings.Join(names, sep)
}

// Contains reports whether m is in the list.
func (l MethodList) Contains(m Method) bool { return slices.Contains(l, m) }
