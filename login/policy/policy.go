// Package policy computes the effective sign-in policy of a user at a
// client: the strictest combination of the global default, the client's
// policy and the user's, with the level each value came from.
package policy

import (
	"slices"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/storage"
)

// Second-factor settings, from least to most strict.
const (
	Off      = "off"
	Optional = "optional"
	Required = "required"
)

var rank = map[string]int{Off: 0, Optional: 1, Required: 2}

// Valid reports whether s is a second-factor setting.
func Valid(s string) bool { _, ok := rank[s]; return ok }

// Levels of a policy, as shown in explanations.
const (
	LevelConfig = "config"
	LevelGlobal = "global"
	LevelClient = "client"
	LevelUser   = "user"
)

// Effective is a resolved policy. Source names, per field, the level that
// decided it.
type Effective struct {
	SecondFactor      string
	AllowedMethods    []storage.Method // never empty: every method when unrestricted
	SMSFallback       bool
	CodeDigits        int
	CodeTTL           time.Duration
	MaxAttempts       int
	ResendCooldown    time.Duration
	MaxResends        int
	SessionLifetime   time.Duration
	IdleTimeout       time.Duration // 0: off
	RememberDevice    time.Duration // 0: off
	ExemptAPIAccounts bool
	Source            map[string]string
}

// Defaults is the policy the configuration implies, before any global,
// client or user policy: second factor optional, every method, the otp.*
// code parameters, session.lifetime, and API accounts exempt. It is the
// one place these are built; the sign-in and the admin service's
// explanations both resolve on top of it.
func Defaults(c config.Config) Effective {
	o := c.OTP
	return Effective{
		SecondFactor:      Optional,
		AllowedMethods:    storage.Methods(),
		SMSFallback:       len(o.SMSFallback) > 0,
		CodeDigits:        o.Digits,
		CodeTTL:           o.TTL.D(),
		MaxAttempts:       o.MaxAttempts,
		ResendCooldown:    o.ResendCooldown.D(),
		MaxResends:        o.MaxResends,
		SessionLifetime:   c.Session.Lifetime.D(),
		ExemptAPIAccounts: true,
	}
}

// Allows reports whether a method is allowed.
func (e Effective) Allows(method storage.Method) bool {
	return slices.Contains(e.AllowedMethods, method)
}

// Resolve starts from the configured defaults and applies the global policy
// on top of them; the client and user policies can then only make it
// stricter: any required wins, allowed methods intersect, lifetimes and
// limits take the strictest value.
func Resolve(defaults Effective, global, client, user *storage.Policy) Effective {
	e := defaults
	e.AllowedMethods = slices.Clone(defaults.AllowedMethods)
	if len(e.AllowedMethods) == 0 {
		e.AllowedMethods = storage.Methods()
	}
	e.Source = map[string]string{}
	for _, f := range fields {
		e.Source[f] = LevelConfig
	}
	e.apply(LevelGlobal, global, true)
	e.apply(LevelClient, client, false)
	e.apply(LevelUser, user, false)
	return e
}

var fields = []string{"second_factor", "allowed_methods", "sms_fallback", "code_digits", "code_ttl", "max_attempts",
	"resend_cooldown", "max_resends", "session_lifetime", "idle_timeout", "remember_device", "exempt_api_accounts"}

// apply folds one level in; override (the global level) replaces the
// defaults, the others only tighten.
func (e *Effective) apply(level string, p *storage.Policy, override bool) {
	if p == nil {
		return
	}
	set := func(field string, take bool) {
		if take {
			e.Source[field] = level
		}
	}
	if Valid(p.SecondFactor) {
		take := override || rank[p.SecondFactor] > rank[e.SecondFactor]
		if take {
			e.SecondFactor = p.SecondFactor
		}
		set("second_factor", take)
	}
	if len(p.AllowedMethods) > 0 {
		next := slices.DeleteFunc(slices.Clone(e.AllowedMethods), func(m storage.Method) bool { return !p.AllowedMethods.Contains(m) })
		if override {
			next = slices.Clone([]storage.Method(p.AllowedMethods))
		}
		set("allowed_methods", len(next) != len(e.AllowedMethods) || override)
		e.AllowedMethods = next
	}
	if p.SMSFallback != nil {
		take := override || (e.SMSFallback && !*p.SMSFallback)
		if take {
			e.SMSFallback = *p.SMSFallback
		}
		set("sms_fallback", take)
	}
	if p.ExemptAPIAccounts != nil {
		take := override || (e.ExemptAPIAccounts && !*p.ExemptAPIAccounts)
		if take {
			e.ExemptAPIAccounts = *p.ExemptAPIAccounts
		}
		set("exempt_api_accounts", take)
	}
	if p.CodeDigits != nil {
		set("code_digits", tighten(&e.CodeDigits, *p.CodeDigits, override, true))
	}
	if p.MaxAttempts != nil {
		set("max_attempts", tighten(&e.MaxAttempts, *p.MaxAttempts, override, false))
	}
	if p.MaxResends != nil {
		set("max_resends", tighten(&e.MaxResends, *p.MaxResends, override, false))
	}
	set("code_ttl", tightenDur(&e.CodeTTL, p.CodeTTLSeconds, override, false, false))
	set("resend_cooldown", tightenDur(&e.ResendCooldown, p.ResendCooldownSeconds, override, true, false))
	set("session_lifetime", tightenDur(&e.SessionLifetime, p.SessionLifetimeSeconds, override, false, false))
	set("idle_timeout", tightenDur(&e.IdleTimeout, p.IdleTimeoutSeconds, override, false, true))
	set("remember_device", tightenDur(&e.RememberDevice, p.RememberDeviceSeconds, override, false, false))
}

// tighten sets *cur to v when overriding or when v is stricter (larger when
// higherIsStricter, smaller otherwise) and reports whether it did.
func tighten(cur *int, v int, override, higherIsStricter bool) bool {
	if override || (higherIsStricter && v > *cur) || (!higherIsStricter && v < *cur) {
		*cur = v
		return true
	}
	return false
}

// tightenDur is tighten for durations given in seconds. With zeroIsOff, 0
// means "no limit", so any positive value is stricter than it.
func tightenDur(cur *time.Duration, secs *int64, override, higherIsStricter, zeroIsOff bool) bool {
	if secs == nil {
		return false
	}
	v := time.Duration(*secs) * time.Second
	switch {
	case override:
	case zeroIsOff && v == 0:
		return false
	case zeroIsOff && *cur == 0:
	case higherIsStricter && v > *cur:
	case !higherIsStricter && v < *cur:
	default:
		return false
	}
	*cur = v
	return true
}

// Fields lists the policy fields in display order.
func Fields() []string { return slices.Clone(fields) }
