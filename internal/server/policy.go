package server

import (
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// PolicyDefaults is the policy the configuration implies, before any
// global, client or user policy: second factor optional, every method,
// the otp.* code parameters and session.lifetime.
func (a *App) PolicyDefaults() policy.Effective {
	o := a.Cfg.OTP
	return policy.Effective{
		SecondFactor:      policy.Optional,
		AllowedMethods:    storage.Methods(),
		SMSFallback:       len(o.SMSFallback) > 0,
		CodeDigits:        o.Digits,
		CodeTTL:           o.TTL.D(),
		MaxAttempts:       o.MaxAttempts,
		ResendCooldown:    o.ResendCooldown.D(),
		MaxResends:        o.MaxResends,
		SessionLifetime:   a.Cfg.Session.Lifetime.D(),
		ExemptAPIAccounts: true,
	}
}
