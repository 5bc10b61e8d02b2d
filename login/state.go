package login

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// step is what a sign-in request asks for.
type step int

const (
	// stepStart: the login page opens; a live session may answer.
	stepStart step = iota
	// stepPassword: the password was right; what does the sign-in still need?
	stepPassword
	// stepResend: "Send a new code", by the method of the last one.
	stepResend
	// stepMethod: "Use another method".
	stepMethod
	// stepCode: the code pages, which check a code (or a recovery code)
	// and complete the sign-in with it.
	stepCode
)

// part names one piece of a sign-in's state that is read from the store
// (or a cookie). decide asks for the parts it needs as it goes, so that a
// request reads only what its answer depends on, and each part once.
type part uint16

const (
	partSession   part = 1 << iota // the browser's live SSO session (stepStart)
	partUser                       // the session's user (stepStart; the other steps know theirs)
	partPolicy                     // the effective policy of the user at the client
	partFactors                    // the user's usable methods that the policy allows
	partMarks                      // the provider-wide "not before" mark of sessions
	partDevice                     // this browser's remembered second factor for the user
	partGuard                      // the account's backoff or lock
	partChallenge                  // the sign-in's latest code and how many went out
)

// state is everything one sign-in request decides on, each part loaded at
// most once (see load) into this one value. decide reads it and nothing
// else: the time is in it too.
type state struct {
	step   step
	now    time.Time
	req    *storage.AuthRequest
	user   *storage.User  // who signs in; nil while nobody is known (stepStart before partUser)
	method storage.Method // stepMethod: the method asked for

	loaded    part
	session   *storage.Session       // partSession: nil when the browser has no live session
	policy    policy.Effective       // partPolicy
	factors   []storage.SecondFactor // partFactors: verified, usable, allowed; preferred first
	notBefore time.Time              // partMarks: sessions (and remembered devices) before it are over
	deviceAt  *time.Time             // partDevice: when this browser completed a second factor for user, per its signed cookie
	wait      time.Duration          // partGuard: until the account's next attempt (0: now)
	locked    bool                   // partGuard: only an admin can let the account in again
	challenge *storage.Challenge     // partChallenge: the latest code, nil before the first
	sent      int64                  // partChallenge: codes sent for this sign-in
}

// missing returns which of parts are not loaded yet.
func (st *state) missing(parts part) part { return parts &^ st.loaded }

// newState starts the state of a request about req and, when known, u.
func (s *Service) newState(st step, req *storage.AuthRequest, u *storage.User) *state {
	out := &state{step: st, now: s.cfg.Now(), req: req, user: u}
	if u != nil {
		out.loaded = partUser
	}
	return out
}

// run is the middle of every sign-in handler: it loads what decide asks
// for until decide knows what happens next, and then does it.
func (s *Service) run(w http.ResponseWriter, r *http.Request, st *state) error {
	for range 16 { // each round loads at least one more part; there are fewer
		d := decide(st)
		if d.act != actLoad {
			return s.act(w, r, st, d)
		}
		if err := s.load(r, st, d.need); err != nil {
			return err
		}
	}
	return errors.New("login: decide kept asking for parts of the state")
}

// loadOrder loads the parts in an order where each finds what it needs:
// the user before the policy, the policy before the factors.
var loadOrder = []part{partSession, partUser, partPolicy, partFactors, partMarks, partDevice, partGuard, partChallenge}

// load reads the parts of st that are asked for and not loaded yet.
func (s *Service) load(r *http.Request, st *state, parts part) error {
	if parts&partFactors != 0 {
		parts |= partPolicy // the policy says which methods count
	}
	for _, p := range loadOrder {
		if st.missing(parts)&p == 0 {
			continue
		}
		if err := s.loadPart(r, st, p); err != nil {
			return err
		}
		st.loaded |= p
	}
	return nil
}

func (s *Service) loadPart(r *http.Request, st *state, p part) error {
	ctx := r.Context()
	var err error
	switch p {
	case partSession:
		st.session, err = s.liveSession(r, st.now)
	case partUser:
		st.user, err = s.enabledUser(r, st.session)
	case partPolicy:
		st.policy, err = s.policyFor(ctx, st.req.ClientID, st.user.ID)
	case partFactors:
		st.factors, err = s.codeFactors(ctx, st.user.ID)
		st.factors = slices.DeleteFunc(st.factors, func(f storage.SecondFactor) bool { return !st.policy.Allows(f.Method) })
	case partMarks:
		st.notBefore, err = s.cfg.Store.GlobalNotBefore(ctx)
	case partDevice:
		st.deviceAt = s.deviceAt(r, st.user)
	case partGuard:
		if s.cfg.Guard != nil {
			st.wait, st.locked, err = s.cfg.Guard.AccountPending(ctx, st.user.ID)
		}
	case partChallenge:
		// Codes go out only after a password step set the pending user,
		// so a request without one has none (as of its load: parallel
		// sends may each count one less, as they would counting rows).
		if st.req.PendingUserID != "" {
			st.challenge, st.sent, err = s.cfg.Store.LatestChallengeAndCount(ctx, st.req.ID)
		}
	}
	return err
}

// liveSession returns the browser's SSO session when it is live (not
// revoked, not expired), or nil.
func (s *Service) liveSession(r *http.Request, now time.Time) (*storage.Session, error) {
	id := s.SessionID(r)
	if id == "" {
		return nil, nil
	}
	sess, err := s.cfg.Store.ActiveSession(r.Context(), id, now)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return sess, err
}

// enabledUser returns the user of a session, or nil when that user is
// gone or disabled.
func (s *Service) enabledUser(r *http.Request, sess *storage.Session) (*storage.User, error) {
	if sess == nil {
		return nil, nil
	}
	u, err := s.cfg.Store.User(r.Context(), sess.UserID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, nil
	}
	return u, err
}

// pending loads a request whose password step succeeded in this browser
// and whose second factor is still due, as the state of step.
func (s *Service) pending(r *http.Request, st step) (*state, error) {
	a, u, err := s.pendingRequest(r)
	if err != nil {
		return nil, err
	}
	return s.newState(st, a, u), nil
}
