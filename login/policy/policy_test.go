package policy

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/storage"
)

func ptr[T any](v T) *T { return &v }

var defaults = Effective{
	SecondFactor: Optional, SMSFallback: true, CodeDigits: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5,
	ResendCooldown: 30 * time.Second, MaxResends: 3, SessionLifetime: 90 * 24 * time.Hour, ExemptAPIAccounts: true,
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		global, client, user *storage.Policy
		check                func(t *testing.T, e Effective)
	}{
		{name: "defaults", check: func(t *testing.T, e Effective) {
			if e.SecondFactor != Optional || len(e.AllowedMethods) != len(storage.Methods()) || e.Source["second_factor"] != LevelConfig {
				t.Errorf("%+v", e)
			}
		}},
		{name: "client required beats user optional", client: &storage.Policy{SecondFactor: Required}, user: &storage.Policy{SecondFactor: Optional},
			check: func(t *testing.T, e Effective) {
				if e.SecondFactor != Required || e.Source["second_factor"] != LevelClient {
					t.Errorf("second factor %q from %q", e.SecondFactor, e.Source["second_factor"])
				}
			}},
		{name: "user cannot loosen", user: &storage.Policy{SecondFactor: Off, MaxAttempts: ptr(50), SessionLifetimeSeconds: ptr(int64(400 * 86400))},
			check: func(t *testing.T, e Effective) {
				if e.SecondFactor != Optional || e.MaxAttempts != 5 || e.SessionLifetime != 90*24*time.Hour {
					t.Errorf("%+v", e)
				}
			}},
		{name: "global overrides the config, both ways", global: &storage.Policy{SecondFactor: Off, MaxAttempts: ptr(10), AllowedMethods: storage.MethodList{"sms", "email"}},
			check: func(t *testing.T, e Effective) {
				if e.SecondFactor != Off || e.MaxAttempts != 10 || !slices.Equal(e.AllowedMethods, []storage.Method{"sms", "email"}) || e.Source["max_attempts"] != LevelGlobal {
					t.Errorf("%+v", e)
				}
			}},
		{name: "methods intersect", global: &storage.Policy{AllowedMethods: storage.MethodList{"sms", "email", "totp"}},
			client: &storage.Policy{AllowedMethods: storage.MethodList{"totp", "sms"}}, user: &storage.Policy{AllowedMethods: storage.MethodList{"sms", "voice"}},
			check: func(t *testing.T, e Effective) {
				if !slices.Equal(e.AllowedMethods, []storage.Method{"sms"}) || e.Source["allowed_methods"] != LevelUser {
					t.Errorf("methods %v from %s", e.AllowedMethods, e.Source["allowed_methods"])
				}
			}},
		{name: "lifetimes take the minimum, digits the maximum, cooldown the maximum",
			client: &storage.Policy{SessionLifetimeSeconds: ptr(int64(3600)), CodeDigits: ptr(8), ResendCooldownSeconds: ptr(int64(10)), CodeTTLSeconds: ptr(int64(60))},
			user:   &storage.Policy{SessionLifetimeSeconds: ptr(int64(7200)), CodeDigits: ptr(6), ResendCooldownSeconds: ptr(int64(120))},
			check: func(t *testing.T, e Effective) {
				if e.SessionLifetime != time.Hour || e.CodeDigits != 8 || e.ResendCooldown != 2*time.Minute || e.CodeTTL != time.Minute {
					t.Errorf("%+v", e)
				}
				if e.Source["session_lifetime"] != LevelClient || e.Source["resend_cooldown"] != LevelUser {
					t.Errorf("sources %v", e.Source)
				}
			}},
		{name: "idle timeout: any positive value beats off", user: &storage.Policy{IdleTimeoutSeconds: ptr(int64(600))}, client: &storage.Policy{IdleTimeoutSeconds: ptr(int64(0))},
			check: func(t *testing.T, e Effective) {
				if e.IdleTimeout != 10*time.Minute {
					t.Errorf("idle %v", e.IdleTimeout)
				}
			}},
		{name: "fallback and API exemption: any off wins", client: &storage.Policy{SMSFallback: ptr(false)}, user: &storage.Policy{SMSFallback: ptr(true), ExemptAPIAccounts: ptr(false)},
			check: func(t *testing.T, e Effective) {
				if e.SMSFallback || e.ExemptAPIAccounts {
					t.Errorf("%+v", e)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, Resolve(defaults, tc.global, tc.client, tc.user)) })
	}
}

func BenchmarkResolve(b *testing.B) {
	client := &storage.Policy{SecondFactor: Required, AllowedMethods: storage.MethodList{"sms", "totp"}}
	user := &storage.Policy{SessionLifetimeSeconds: ptr(int64(3600))}
	for b.Loop() {
		Resolve(defaults, nil, client, user)
	}
}

// TestDefaults: the configuration's defaults are the documented policy
// defaults, and each configured value carries over.
func TestDefaults(t *testing.T) {
	d := Defaults(config.Default())
	want := defaults
	want.AllowedMethods = storage.Methods()
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Defaults(config.Default()) = %+v, want %+v", d, want)
	}
	c := config.Default()
	c.OTP.SMSFallback, c.OTP.Digits, c.OTP.TTL, c.Session.Lifetime = nil, 8, config.Duration(time.Minute), config.Duration(time.Hour)
	if d := Defaults(c); d.SMSFallback || d.CodeDigits != 8 || d.CodeTTL != time.Minute || d.SessionLifetime != time.Hour {
		t.Errorf("Defaults of a changed configuration = %+v", d)
	}
}
