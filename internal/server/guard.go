package server

import (
	"github.com/twofold-id/twofold/login/contact"
	"github.com/twofold-id/twofold/login/guard"
)

// Guard returns the abuse limits of the limits.* configuration; SMS and
// calls default to the country of the sending number.
func (a *App) Guard() *guard.Guard {
	a.guardOnce.Do(func() {
		limits := guard.FromConfig(a.Cfg.Limits, contact.PhoneRegion(a.Cfg.Twilio.From))
		a.guard = guard.New(a.Store, limits, a.Ring.Derive(guard.KeyPurpose), a.Now)
	})
	return a.guard
}
