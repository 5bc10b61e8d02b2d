package login

import (
	"errors"
	"net/http"
	"time"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// browserCookie names the cookie that identifies a browser to bind
// authorization requests to; it carries no authority of its own.
func (s *Service) browserCookie() string {
	if s.cfg.Secure {
		return "__Host-twofold_browser"
	}
	return "twofold_browser"
}

func (s *Service) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// browserHash returns the keyed hash of this browser's binding cookie,
// setting a new cookie when there is none.
func (s *Service) browserHash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(s.browserCookie())
	if err != nil || len(c.Value) < 32 || len(c.Value) > 64 {
		v := keyring.RandomToken(32)
		s.setCookie(w, s.browserCookie(), v, 400*24*time.Hour)
		return s.binding.Sum(v)
	}
	return s.binding.Sum(c.Value)
}

// sameBrowser reports whether r comes from the browser bound to hash.
func (s *Service) sameBrowser(r *http.Request, hash string) bool {
	c, err := r.Cookie(s.browserCookie())
	return err == nil && hash != "" && s.binding.Equal(hash, c.Value)
}

// SessionID returns the SSO session record id named by the request's
// session cookie, or "".
func (s *Service) SessionID(r *http.Request) string {
	c, err := r.Cookie(s.cfg.CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return ""
	}
	return sessionIDFromCookie(c.Value)
}

// ClearSession deletes the session cookie.
func (s *Service) ClearSession(w http.ResponseWriter) {
	s.setCookie(w, s.cfg.CookieName, "", -time.Second)
}

// CallbackGuard lets only the browser that signed in collect the code: an
// auth request id leaked from a URL is useless elsewhere.
func (s *Service) CallbackGuard(w http.ResponseWriter, r *http.Request, authRequestID string) bool {
	a, err := s.cfg.Store.AuthRequest(r.Context(), authRequestID, s.cfg.Now())
	if err == nil && !s.sameBrowser(r, a.BrowserHash) || errors.Is(err, storage.ErrNotFound) {
		err = errUnknownRequest
	}
	if err != nil { // an outage gets the "try again shortly" page
		s.adapt(func(http.ResponseWriter, *http.Request) error { return err }).ServeHTTP(w, r)
		return false
	}
	return true
}
