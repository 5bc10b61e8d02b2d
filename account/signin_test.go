package account

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

func TestSafeNext(t *testing.T) {
	for p, want := range map[string]bool{
		"/account":                             true,
		"/account?done=removed":                true,
		"/account/methods/add/totp":            true,
		"/accounts":                            false,
		"/login/enrol/totp":                    false, // the sign-in's, not the account's
		"/authorize?client_id=x":               false,
		"//evil.example/account":               false,
		`/\evil.example`:                       false,
		"https://evil.example/account":         false,
		"/account\r\nSet-Cookie: x=1":          false,
		"/account/" + strings.Repeat("a", 600): false,
	} {
		if got := safeNext(p); got != want {
			t.Errorf("safeNext(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestReturnPath(t *testing.T) {
	for _, c := range []struct{ method, target, want string }{
		{http.MethodGet, "/account/methods/add/phone", "/account/methods/add/phone"},
		{http.MethodGet, "/account?done=password", "/account?done=password"},
		{http.MethodPost, "/account/password", "/account"}, // a form post is never replayed
		{http.MethodGet, "/somewhere-else", "/account"},
	} {
		if got := returnPath(httptest.NewRequest(c.method, c.target, nil)); got != c.want {
			t.Errorf("%s %s: returnPath = %q, want %q", c.method, c.target, got, c.want)
		}
	}
}

// The account pages ask for a fresh second factor exactly when the user
// has one the account client's policy allows, API accounts exempt where
// the policy says so.
func TestEnough(t *testing.T) {
	now := time.Now()
	sms := storage.SecondFactor{Method: storage.MethodSMS, VerifiedAt: &now}
	all := policy.Effective{AllowedMethods: storage.Methods(), ExemptAPIAccounts: true}
	totpOnly := policy.Effective{AllowedMethods: []storage.Method{storage.MethodTOTP}}
	for _, c := range []struct {
		name string
		st   *login.SignedIn
		want bool
	}{
		{"no session", nil, false},
		{"no factor", &login.SignedIn{User: &storage.User{}, Policy: all}, true},
		{"a factor, not fresh", &login.SignedIn{User: &storage.User{}, Policy: all, Factors: []storage.SecondFactor{sms}}, false},
		{"a factor, fresh", &login.SignedIn{User: &storage.User{}, Policy: all, Factors: []storage.SecondFactor{sms}, MFAFresh: true}, true},
		{"a factor the policy does not allow", &login.SignedIn{User: &storage.User{}, Policy: totpOnly, Factors: []storage.SecondFactor{sms}}, true},
		{"an exempt API account", &login.SignedIn{User: &storage.User{APIAccount: true}, Policy: all, Factors: []storage.SecondFactor{sms}}, true},
		{"an API account the policy does not exempt", &login.SignedIn{User: &storage.User{APIAccount: true},
			Policy: policy.Effective{AllowedMethods: storage.Methods()}, Factors: []storage.SecondFactor{sms}}, false},
	} {
		if got := enough(c.st); got != c.want {
			t.Errorf("%s: enough = %v, want %v", c.name, got, c.want)
		}
	}
}
