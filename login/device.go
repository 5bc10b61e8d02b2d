package login

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// purposeDevice keys the remembered-device cookie.
const purposeDevice = "twofold remembered device v1"

// deviceCookie names the cookie that remembers a completed second factor on
// this browser, when the policy's remember_device allows it.
func (s *Service) deviceCookie() string {
	if s.cfg.Secure {
		return "__Host-twofold_device"
	}
	return "twofold_device"
}

// rememberDevice sets the cookie after a second factor: the user's id and
// the time, with a keyed MAC. It carries no authority beyond skipping the
// code for this user, and only while the policy still allows it.
func (s *Service) rememberDevice(w http.ResponseWriter, u *storage.User, eff policy.Effective, now time.Time) {
	if eff.RememberDevice <= 0 {
		return
	}
	payload := u.ID + "." + strconv.FormatInt(now.Unix(), 10)
	mac := s.cfg.Keyring.Hasher(purposeDevice).Sum(payload)
	s.setCookie(w, s.deviceCookie(), payload+"."+mac, eff.RememberDevice)
}

// deviceAt returns when this browser completed a second factor for u, as
// its remembered-device cookie says under a valid MAC, or nil. Whether
// that still counts (the policy's window, the session marks) is decide's.
func (s *Service) deviceAt(r *http.Request, u *storage.User) *time.Time {
	c, err := r.Cookie(s.deviceCookie())
	if err != nil || len(c.Value) > 256 {
		return nil
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || parts[0] != u.ID {
		return nil
	}
	if !s.cfg.Keyring.Hasher(purposeDevice).Equal(parts[2], parts[0]+"."+parts[1]) {
		return nil
	}
	secs, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil
	}
	at := time.Unix(secs, 0)
	return &at
}
