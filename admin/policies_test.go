package admin

import (
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

func str(s string) *string { return &s }
func num(n int) *int       { return &n }

func TestPolicyDocValidation(t *testing.T) {
	l := Level{Scope: "global"}
	cases := []struct {
		name  string
		doc   PolicyDoc
		field string // "" when valid
	}{
		{"empty inherits everything", PolicyDoc{}, ""},
		{"everything set", PolicyDoc{SecondFactor: str("required"), AllowedMethods: []storage.Method{"sms", "totp"},
			CodeDigits: num(8), CodeTTL: str("5m"), MaxAttempts: num(3), ResendCooldown: str("0s"), MaxResends: num(0),
			SessionLifetime: str("1h30m"), RememberDevice: str("30d")}, ""},
		{"idle off", PolicyDoc{IdleTimeout: str("0")}, ""},
		{"second factor", PolicyDoc{SecondFactor: str("always")}, "second_factor"},
		{"unknown method", PolicyDoc{AllowedMethods: []storage.Method{"sms", "pigeon"}}, "allowed_methods"},
		{"empty methods", PolicyDoc{AllowedMethods: []storage.Method{}}, "allowed_methods"},
		{"digits", PolicyDoc{CodeDigits: num(4)}, "code_digits"},
		{"attempts", PolicyDoc{MaxAttempts: num(0)}, "max_attempts"},
		{"resends", PolicyDoc{MaxResends: num(-1)}, "max_resends"},
		{"ttl syntax", PolicyDoc{CodeTTL: str("five minutes")}, "code_ttl"},
		{"ttl range", PolicyDoc{CodeTTL: str("2h")}, "code_ttl"},
		{"lifetime zero", PolicyDoc{SessionLifetime: str("0")}, "session_lifetime"},
		{"idle too short", PolicyDoc{IdleTimeout: str("10s")}, "idle_timeout"},
		{"remember range", PolicyDoc{RememberDevice: str("500d")}, "remember_device"},
		{"fractional seconds", PolicyDoc{SessionLifetime: str("90m500ms")}, "session_lifetime"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.doc.record(l, time.Now())
			if tc.field == "" {
				if err != nil {
					t.Fatalf("record: %v", err)
				}
				if back := docOf(p); tc.doc.IdleTimeout == nil && summarizeDoc(back) != summarizeDoc(tc.doc) {
					t.Errorf("round trip: %s, want %s", summarizeDoc(back), summarizeDoc(tc.doc))
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Field != tc.field || e.Status != 400 || e.Code != CodeInvalidArgument {
				t.Fatalf("record = %v, want invalid_argument on %s", err, tc.field)
			}
		})
	}
}

func summarizeDoc(d PolicyDoc) string {
	var b strings.Builder
	for _, s := range []*string{d.SecondFactor, d.CodeTTL, d.ResendCooldown, d.SessionLifetime, d.RememberDevice} {
		if s != nil {
			b.WriteString(*s)
		}
		b.WriteString("|")
	}
	b.WriteString(storage.MethodList(d.AllowedMethods).Join(","))
	return b.String()
}
