package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/twofold-id/twofold/login/guard"
)

// Guard is the abuse protection the sign-in consults: account backoff and
// lockout, per-IP failure limits and send limits. Nil turns it off (tests of
// other parts).
type Guard interface {
	AccountWait(ctx context.Context, userID string) (wait time.Duration, locked bool, err error)
	Failure(ctx context.Context, userID, ip string) (justLocked bool, err error)
	Success(ctx context.Context, userID string) error
	IPBlocked(ctx context.Context, ip string) (retryAfter time.Duration, err error)
	AllowSend(ctx context.Context, channel, destination, ip string) error
}

// tooManyFromIP answers an IP over its failure limit: 429 with Retry-After,
// on any account, without locking the real user out elsewhere.
func tooManyFromIP(w http.ResponseWriter, wait time.Duration) *pageError {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
	return &pageError{http.StatusTooManyRequests, "Too many attempts",
		fmt.Sprintf("There were too many failed sign-ins from your network. Try again in %s.", humanWait(wait))}
}

func humanWait(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds()+0.999))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()+0.999))
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

// failure counts a failed password or factor for the account and the IP,
// and in the metrics under factor ("password", a code's channel,
// "recovery").
func (s *Service) failure(r *http.Request, factor, userID, clientID string) error {
	s.cfg.Metrics.LoginFailure(factor)
	if s.cfg.Guard == nil {
		return nil
	}
	locked, err := s.cfg.Guard.Failure(r.Context(), userID, s.cfg.ClientIP(r))
	if locked {
		s.audit(r, "account_locked", userID, clientID, "locked after too many failures")
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

// errSendLimited answers a send that every limit refused.
func errSendLimited(w http.ResponseWriter, err error) *pageError {
	var refused *guard.RefusedError
	if errors.As(err, &refused) && refused.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(refused.RetryAfter.Seconds()+0.999)))
	}
	return &pageError{http.StatusTooManyRequests, "We can't send another code right now",
		"Too many codes were sent recently. Wait a while, or use another method if you have one."}
}
