package login

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/login/guard"
	"github.com/twofold-id/twofold/storage"
)

// Guard is the abuse protection the sign-in consults: account backoff and
// lockout, per-IP failure limits and send limits. Nil turns it off (tests of
// other parts). Account methods take a user id, or UsernameKey of a typed
// name that no enabled account has.
type Guard interface {
	AccountWait(ctx context.Context, userID string) (wait time.Duration, locked bool, err error)
	AccountPending(ctx context.Context, userID string) (wait time.Duration, locked bool, err error)
	Release(ctx context.Context, userID string) error
	UsernameKey(username string) string
	Failure(ctx context.Context, userID, ip string) (justLocked bool, err error)
	Success(ctx context.Context, userID string) error
	IPBlocked(ctx context.Context, ip string) (retryAfter time.Duration, err error)
	AllowSend(ctx context.Context, channel, destination, ip string) error
}

// tooManyFromIP answers an IP over its failure limit: 429 with Retry-After,
// on any account, without locking the real user out elsewhere.
func tooManyFromIP(w http.ResponseWriter, wait time.Duration) *pageError {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
	return &pageError{http.StatusTooManyRequests, i18n.M("error.too_many_attempts_heading"),
		i18n.M("error.ip_limited", "Wait", humanWait(wait))}
}

// humanWait says a wait in whole seconds, rounded up, below two minutes
// (a doubled 30 s backoff is "60 seconds", not "1 minutes"), and in whole
// minutes, rounded up, from there.
func humanWait(d time.Duration) i18n.Message {
	if s := int(d.Seconds() + 0.999); s < 120 {
		return i18n.M("wait.seconds", s)
	}
	return i18n.M("wait.minutes", int(d.Minutes()+0.999))
}

// ipBlocked reports the wait of a blocked client IP (0 when not blocked).
func (s *Service) ipBlocked(r *http.Request) (time.Duration, error) {
	if s.cfg.Guard == nil {
		return 0, nil
	}
	return s.cfg.Guard.IPBlocked(r.Context(), s.cfg.ClientIP(r))
}

// accountHeld reports whether the account must not be tried now (backoff
// or lock). It also reserves the attempt slot during backoff.
func (s *Service) accountHeld(r *http.Request, userID string) (time.Duration, bool, error) {
	if s.cfg.Guard == nil || userID == "" {
		return 0, false, nil
	}
	wait, locked, err := s.cfg.Guard.AccountWait(r.Context(), userID)
	return wait, locked || wait > 0, err
}

// release gives back the backoff slot that accountHeld claimed for key,
// when the attempt ended neither in a failure nor in a success, so that the
// sign-in's next step is not refused for the claim of this one.
func (s *Service) release(r *http.Request, key string) error {
	if s.cfg.Guard == nil || key == "" {
		return nil
	}
	return s.cfg.Guard.Release(r.Context(), key)
}

// backoffKey is what the password step's backoff counts under: the account
// of an enabled user (whose count holds every factor's failures too), or
// else the typed name itself, so that a name no account has backs off and
// locks exactly as an account would.
func (s *Service) backoffKey(u *storage.User, username string) string {
	switch {
	case u != nil:
		return u.ID
	case s.cfg.Guard == nil:
		return ""
	}
	return s.cfg.Guard.UsernameKey(username)
}

// failure counts a failed password or factor for the account and the IP,
// and in the metrics under factor ("password", a code's channel,
// "recovery").
func (s *Service) failure(r *http.Request, factor, userID, clientID string) error {
	return s.failureOf(r, factor, userID, userID, clientID)
}

// failureOf is failure counted under key: a user id, a UsernameKey, or ""
// for the IP alone. A lock is audited for userID ("" for a name).
func (s *Service) failureOf(r *http.Request, factor, key, userID, clientID string) error {
	s.cfg.Metrics.LoginFailure(factor)
	if s.cfg.Guard == nil {
		return nil
	}
	locked, err := s.cfg.Guard.Failure(r.Context(), key, s.cfg.ClientIP(r))
	switch {
	case locked && userID != "":
		s.audit(r, "account_locked", userID, clientID, "locked after too many failures")
	case locked:
		s.audit(r, "username_locked", "", clientID, "a name no account has, locked after too many failures")
	}
	return err
}

// success resets the account's failure count once a whole interactive
// sign-in completes (not after the password alone, which would let someone
// who knows it clear their wrong-code count).
func (s *Service) success(r *http.Request, userID string) error {
	if s.cfg.Guard == nil {
		return nil
	}
	return s.cfg.Guard.Success(r.Context(), userID)
}

// allowSend asks the send limits; a refusal is audited and counted with
// its limit.
func (s *Service) allowSend(r *http.Request, userID, clientID, channel, dest string) error {
	if s.cfg.Guard == nil {
		return nil
	}
	err := s.cfg.Guard.AllowSend(r.Context(), channel, dest, s.cfg.ClientIP(r))
	var refused *guard.RefusedError
	if errors.As(err, &refused) {
		s.auditDetail(r, "code_send_refused", userID, clientID, "refused", refused.Detail())
		s.cfg.Metrics.SendBlocked(refused.Channel, string(refused.Limit))
	}
	return err
}

// errAccountHeld answers a sign-in whose account must wait (wait > 0) or
// is locked (wait 0) before its next code can be tried. Only someone who
// passed the password step, or holds a session, sees it.
func errAccountHeld(w http.ResponseWriter, wait time.Duration) *pageError {
	setRetryAfter(w, wait)
	return accountHeldPage(wait)
}

// accountHeldPage is errAccountHeld's page, without the header.
func accountHeldPage(wait time.Duration) *pageError {
	if wait == 0 {
		return errPage(http.StatusTooManyRequests, "error.locked_heading", "error.locked")
	}
	return &pageError{http.StatusTooManyRequests, i18n.M("error.too_many_attempts_heading"),
		i18n.M("error.account_wait", "Wait", humanWait(wait))}
}

// setRetryAfter says how long to wait, in whole seconds rounded up; no
// header for no wait.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
	}
}

// errSendLimited answers a send that every limit refused.
func errSendLimited(w http.ResponseWriter, err error) *pageError {
	var refused *guard.RefusedError
	if errors.As(err, &refused) && refused.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(refused.RetryAfter.Seconds()+0.999)))
	}
	return errPage(http.StatusTooManyRequests, "error.send_limited_heading", "error.send_limited")
}
