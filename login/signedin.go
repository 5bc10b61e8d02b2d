package login

import (
	"errors"
	"net/http"

	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// The provider's own pages (the account pages) sign in like any
// application, through /authorize and these pages, and then trust the SSO
// session that sign-in leaves in the browser. SignedInAt is how they read
// it, with the sign-in's own checks of a session.

// SignedIn is who a browser's SSO session signs in at one client.
type SignedIn struct {
	User    *storage.User
	Session *storage.Session
	// Policy is the user's effective policy at the client.
	Policy policy.Effective
	// Factors are the user's usable, verified methods, preferred first,
	// whether the policy allows them or not.
	Factors []storage.SecondFactor
	// MFAFresh: the session completed a second factor within
	// MFAFreshness.
	MFAFresh bool
}

// SignedInAt returns who this browser's session signs in at clientID
// outside any authorization request, or nil when nobody is: no session,
// or one that ended, whose user is disabled or gone, or that the client's
// policy no longer accepts (lifetime, idle timeout, the user's and the
// provider-wide session marks), as the sign-in checks a session before it
// answers an authorization request with it.
func (s *Service) SignedInAt(r *http.Request, clientID string) (*SignedIn, error) {
	ctx := r.Context()
	id := s.SessionID(r)
	if id == "" {
		return nil, nil
	}
	sess, err := s.cfg.Store.ActiveSession(ctx, id, s.cfg.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	u, err := s.cfg.Store.User(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	eff, err := s.policyFor(ctx, clientID, u.ID)
	if err != nil {
		return nil, err
	}
	if ok, err := s.sessionUsable(ctx, sess, u, eff); !ok || err != nil {
		return nil, err
	}
	factors, err := s.codeFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &SignedIn{User: u, Session: sess, Policy: eff, Factors: factors, MFAFresh: s.mfaFresh(sess)}, nil
}
