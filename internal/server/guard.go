package server

import (
	"github.com/twofold-id/twofold/login/contact"
	"github.com/twofold-id/twofold/login/guard"
)

// Guard returns the abuse limits of the limits.* configuration; SMS and
// calls default to the country of the sending number. Without Twilio
// (development mode's log sender) nothing is billed, so no country is
// refused unless limits.sms_countries says otherwise.
func (a *App) Guard() *guard.Guard {
	a.guardOnce.Do(func() {
		region := contact.PhoneRegion(a.Cfg.Twilio.From)
		if !a.Cfg.Twilio.Enabled() {
			region = "*"
		}
		limits := guard.FromConfig(a.Cfg.Limits, region)
		a.guard = guard.New(a.Store, limits, a.Ring.Derive(guard.KeyPurpose), a.Now)
	})
	return a.guard
}
