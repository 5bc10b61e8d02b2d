package login

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// MFAFreshness is how long a completed second factor counts as fresh: an
// SSO session lives on (90 days by default), but a request for the
// two-factor level after this asks for a new code.
const MFAFreshness = 12 * time.Hour

// policyFor returns the effective policy of a user at a client. Nothing is
// cached: a policy change holds on the next request on every replica.
func (s *Service) policyFor(ctx context.Context, clientID, userID string) (policy.Effective, error) {
	return s.cfg.Policy(ctx, clientID, userID)
}

// need is what a sign-in of u at the request's client must include.
type need struct {
	eff          policy.Effective
	factors      []storage.SecondFactor // usable, allowed methods; preferred first
	secondFactor bool                   // a second factor is due
}

// decide applies the effective policy: API accounts are exempt where the
// policy allows; "required", or a request for the two-factor acr, asks
// everyone; "off" asks nobody; "optional" asks users who have a method.
func (s *Service) decide(ctx context.Context, a *storage.AuthRequest, u *storage.User) (need, error) {
	eff, err := s.policyFor(ctx, a.ClientID, u.ID)
	if err != nil {
		return need{}, err
	}
	factors, err := s.codeFactors(ctx, u.ID)
	if err != nil {
		return need{}, err
	}
	n := need{eff: eff, factors: slices.DeleteFunc(factors, func(f storage.SecondFactor) bool { return !eff.Allows(f.Method) })}
	switch {
	case u.APIAccount && eff.ExemptAPIAccounts:
	case eff.SecondFactor == policy.Required || slices.Contains(a.ACRValues, ACRTwoFactor):
		n.secondFactor = true // a client asking for two factors gets them even where the policy is off
	case eff.SecondFactor == policy.Off:
	default:
		n.secondFactor = len(n.factors) > 0
	}
	return n, nil
}

// errNeedsFactor answers a user whom policy requires a second factor of but
// who has none that the policy allows.
var errNeedsFactor = &pageError{http.StatusForbidden, "A second factor is required",
	"This application requires a second factor, and your account has none it accepts. Ask your administrator to set one up."}

// afterPassword continues a sign-in whose password was right.
func (s *Service) afterPassword(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, u *storage.User) error {
	n, err := s.decide(r.Context(), a, u)
	if err != nil {
		return err
	}
	if !n.secondFactor {
		return s.signIn(w, r, a, u, []string{"pwd"}, ACRPassword, false)
	}
	if !slices.Contains(a.ACRValues, ACRTwoFactor) { // an explicit request for two factors always asks
		remembered, err := s.deviceRemembered(r, u, n.eff)
		if err != nil {
			return err
		}
		if remembered {
			s.audit(r, "second_factor_remembered", u.ID, a.ClientID, "device remembered")
			return s.signIn(w, r, a, u, []string{"pwd", "mfa"}, ACRTwoFactor, false)
		}
	}
	if len(n.factors) == 0 {
		return s.forceEnrolment(w, r, a, u)
	}
	return s.startSecondFactor(w, r, a, u, n.factors)
}

// forceEnrolment takes a user whom policy requires a second factor of, and
// who has none it allows, through enrolment before the sign-in completes.
func (s *Service) forceEnrolment(w http.ResponseWriter, r *http.Request, a *storage.AuthRequest, u *storage.User) error {
	if err := s.cfg.Store.SetPendingUser(r.Context(), a.ID, u.ID); errors.Is(err, storage.ErrAlreadyUsed) {
		return errUnknownRequest
	} else if err != nil {
		return err
	}
	s.audit(r, "enrolment_required", u.ID, a.ClientID, "redirected")
	http.Redirect(w, r, "/login/enrol?authRequestID="+a.ID, http.StatusSeeOther)
	return nil
}

// sessionUsable reports whether a live session may still serve this
// request under the effective policy: its lifetime and idle timeout, and
// the user's and provider-wide session marks.
func (s *Service) sessionUsable(ctx context.Context, sess *storage.Session, u *storage.User, eff policy.Effective) (bool, error) {
	now := s.cfg.Now()
	if now.Sub(sess.CreatedAt) > eff.SessionLifetime {
		return false, nil
	}
	if eff.IdleTimeout > 0 && now.Sub(sess.LastSeenAt) > eff.IdleTimeout {
		return false, nil
	}
	if u.SessionsNotBefore != nil && sess.CreatedAt.Before(*u.SessionsNotBefore) {
		return false, nil
	}
	global, err := s.cfg.Store.GlobalNotBefore(ctx)
	if err != nil {
		return false, err
	}
	return !sess.CreatedAt.Before(global), nil
}

// mfaFresh reports whether the session completed a second factor recently
// enough to satisfy a request that needs one.
func (s *Service) mfaFresh(sess *storage.Session) bool {
	return sess.MFAAt != nil && s.cfg.Now().Sub(*sess.MFAAt) < MFAFreshness
}
