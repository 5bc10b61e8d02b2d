package login

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/twofold-id/twofold/i18n"
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

// act is what a sign-in does next.
type act int

const (
	actLoad       act = iota // decide must know more first: load need
	actCallback              // the request is done: on to the callback
	actPassword              // ask for the password
	actOAuthError            // answer the client with an OAuth error (prompt=none)
	actSSO                   // complete from the live session
	actComplete              // complete with a new session, as amr and acr say
	actEnrol                 // enrol a method first (policy requires one the user lacks)
	actSend                  // send a code by the first of try that can deliver
	actCapped                // no: the sign-in has had all its codes
	actRefuse                // an error page
	actCodePage              // the code page again, with page's message
)

// decision is decide's answer.
type decision struct {
	act        act
	need       part                   // actLoad
	amr        []string               // actComplete
	acr        string                 // actComplete
	try        []storage.SecondFactor // actSend, actCapped: the methods, in order
	oauth      [2]string              // actOAuthError: error and description
	page       *pageError             // actRefuse, actCodePage
	retryAfter time.Duration          // actRefuse, actCodePage: how long to wait, if that is the answer
	note       note                   // an audit event recorded before acting
}

// note is an audit event that a decision records.
type note struct{ event, userID, outcome string }

func need(p part) decision { return decision{act: actLoad, need: p} }

func refuse(pe *pageError) decision { return decision{act: actRefuse, page: pe} }

func codePage(status int, msg string) decision {
	return decision{act: actCodePage, page: &pageError{status: status, message: i18n.M(msg)}}
}

// Answers that decide gives.
var (
	errNeedsFactor  = errPage(http.StatusForbidden, "error.needs_factor_heading", "error.needs_factor")
	errTooManySends = errPage(http.StatusTooManyRequests, "error.too_many_codes_heading", "error.too_many_codes")
)

// decide says what happens next in a sign-in, from its state alone: no
// I/O, no clock. When the answer depends on a part of the state that is
// not loaded, it asks for it (actLoad), and run asks again once it is.
// Every rule of the README's "Second factor", "Policies", "Sessions" and
// "Security" sections about the sign-in's next step is here, and
// decide_test.go has one row per rule.
func decide(st *state) decision {
	switch st.step {
	case stepStart:
		return decideStart(st)
	case stepPassword:
		return afterPassword(st)
	case stepResend:
		return decideResend(st)
	case stepMethod:
		return decideSend(st, st.method)
	}
	return decision{act: actComplete} // stepCode and enrolment complete as their handlers say
}

// decideStart: a request that is done goes to the callback; a live session
// that satisfies the request and the policy completes it, or steps up with
// a code; otherwise the password page, or login_required for prompt=none.
func decideStart(st *state) decision {
	if st.req.DoneAt != nil {
		return decision{act: actCallback}
	}
	var n note
	if !slices.Contains(st.req.Prompt, "login") { // prompt=login: the password again, whatever the session
		if m := st.missing(partSession); m != 0 {
			return need(m)
		}
		d, ok := fromSession(st)
		if ok {
			return d
		}
		n = d.note
	}
	if slices.Contains(st.req.Prompt, "none") {
		return decision{act: actOAuthError, oauth: [2]string{"login_required", "the user must sign in"}, note: n}
	}
	return decision{act: actPassword, note: n}
}

// fromSession decides from the browser's live session when it may answer
// the request (ok): the request's max_age, its id_token_hint, the user,
// and the policy's lifetime, idle timeout and session marks. When it may
// not, the decision may hold a note to audit.
func fromSession(st *state) (decision, bool) {
	sess, a := st.session, st.req
	switch {
	case sess == nil:
		return decision{}, false
	case a.MaxAge != nil && st.now.Sub(sess.AuthTime).Seconds() > float64(*a.MaxAge):
		return decision{}, false
	case a.HintSubject != "" && a.HintSubject != sess.UserID:
		// The client expects another user than the one signed in here (OIDC
		// Core 3.1.2.1): this session must not answer for them.
		return decision{note: note{"sso_refused", sess.UserID, "id_token_hint names another user"}}, false
	}
	if m := st.missing(partUser); m != 0 {
		return need(m), true
	}
	if st.user == nil { // gone or disabled
		return decision{}, false
	}
	if m := st.missing(partPolicy | partMarks); m != 0 {
		return need(m), true
	}
	if !sessionLive(sess, st.user, st.policy, st.notBefore, st.now) {
		return decision{}, false
	}
	return inSession(st), true
}

// inSession: a live session that may answer completes the request, unless
// a second factor is due and the session's is not fresh (nor remembered
// by the browser). Then it steps up: the session vouches for the password
// and a code is asked, except of prompt=none.
func inSession(st *state) decision {
	due, m := secondFactorDue(st)
	if m != 0 {
		return need(m)
	}
	fresh := mfaFreshAt(st.session, st.now)
	if due && !fresh && !wantsTwoFactors(st) {
		remembered, m := deviceRemembered(st)
		if m != 0 {
			return need(m)
		}
		due = !remembered
	}
	if !due || fresh {
		return decision{act: actSSO}
	}
	if slices.Contains(st.req.Prompt, "none") {
		// A code or an enrolment is an interaction the client said it
		// cannot show (OIDC Core 3.1.2.6).
		return decision{act: actOAuthError, oauth: [2]string{"interaction_required", "a second factor is required"}}
	}
	d := askCode(st)
	if len(st.factors) > 0 {
		d.note = note{"step_up", st.user.ID, "second factor asked in a live session"}
	}
	return d
}

// afterPassword: the password was right. A user the policy asks nothing
// more of, or whose browser remembers their second factor, is signed in;
// the others get a code, or enrol one first.
func afterPassword(st *state) decision {
	due, m := secondFactorDue(st)
	if m != 0 {
		return need(m)
	}
	if !due {
		return decision{act: actComplete, amr: []string{"pwd"}, acr: ACRPassword}
	}
	if !wantsTwoFactors(st) { // an explicit request for two factors always asks
		remembered, m := deviceRemembered(st)
		if m != 0 {
			return need(m)
		}
		if remembered {
			return decision{act: actComplete, amr: []string{"pwd", "mfa"}, acr: ACRTwoFactor,
				note: note{"second_factor_remembered", st.user.ID, "device remembered"}}
		}
	}
	return askCode(st)
}

// askCode: a second factor is due. With no method the policy allows, the
// user enrols one (or is refused when none can be enrolled); otherwise a
// code goes out, unless the account must wait (the code step would refuse
// the code until then) or the sign-in has had its codes.
func askCode(st *state) decision {
	if len(st.factors) == 0 {
		if len(enrollable(st.policy)) == 0 {
			return refuse(errNeedsFactor)
		}
		return decision{act: actEnrol}
	}
	if d, held := accountHeld(st, false); held {
		return d
	}
	if m := st.missing(partChallenge); m != 0 {
		return need(m)
	}
	if !rulesOf(st.policy).maySend(st.sent) {
		return decision{act: actCapped, try: st.factors}
	}
	return decision{act: actSend, try: st.factors}
}

// decideResend: a new code by the method of the last one, after the
// cooldown.
func decideResend(st *state) decision {
	if m := st.missing(partPolicy | partChallenge); m != 0 {
		return need(m)
	}
	if st.challenge == nil { // no code was sent: an enrolling sign-in
		return refuse(errUnknownRequest)
	}
	if rulesOf(st.policy).resendWait(st.challenge, st.now) > 0 {
		return codePage(http.StatusTooManyRequests, "code.wait_first")
	}
	return decideSend(st, st.challenge.Method)
}

// decideSend: a code by one method the user has and the policy allows,
// on the code page's terms (its answers show on the code page).
func decideSend(st *state, method storage.Method) decision {
	if m := st.missing(partFactors); m != 0 {
		return need(m)
	}
	i := slices.IndexFunc(st.factors, func(f storage.SecondFactor) bool { return f.Method == method })
	if i < 0 {
		return codePage(http.StatusBadRequest, "code.method_unavailable")
	}
	if d, held := accountHeld(st, true); held {
		return d
	}
	if m := st.missing(partChallenge); m != 0 {
		return need(m)
	}
	if !rulesOf(st.policy).maySend(st.sent) {
		return decision{act: actCapped, try: st.factors[i : i+1]}
	}
	return decision{act: actSend, try: st.factors[i : i+1]}
}

// accountHeld answers an account that must wait before its next code can
// be tried, or is locked: no code is sent that the code step would refuse.
// It claims nothing (the code step takes the slot when the code comes).
func accountHeld(st *state, onCodePage bool) (decision, bool) {
	if m := st.missing(partGuard); m != 0 {
		return need(m), true
	}
	if st.wait == 0 && !st.locked {
		return decision{}, false
	}
	pe := accountHeldPage(st.wait)
	if onCodePage {
		return decision{act: actCodePage, page: pe, retryAfter: st.wait}, true
	}
	return decision{act: actRefuse, page: pe, retryAfter: st.wait}, true
}

// secondFactorDue applies the effective policy: API accounts are exempt
// where the policy allows; "required", or a request for the two-factor
// acr, asks everyone; "off" asks nobody; "optional" asks users who have a
// method the policy allows.
func secondFactorDue(st *state) (bool, part) {
	if m := st.missing(partPolicy | partFactors); m != 0 {
		return false, m
	}
	eff := st.policy
	switch {
	case st.user.APIAccount && eff.ExemptAPIAccounts:
		return false, 0
	case eff.SecondFactor == policy.Required || wantsTwoFactors(st):
		return true, 0 // a client asking for two factors gets them even where the policy is off
	case eff.SecondFactor == policy.Off:
		return false, 0
	}
	return len(st.factors) > 0, 0
}

// wantsTwoFactors reports whether the client asked for the two-factor acr.
func wantsTwoFactors(st *state) bool { return slices.Contains(st.req.ACRValues, ACRTwoFactor) }

// deviceRemembered reports whether this browser completed a second factor
// for the user within the policy's remember_device window, after the
// user's and the provider-wide session marks (revoking a user forgets
// their devices too).
func deviceRemembered(st *state) (bool, part) {
	window := st.policy.RememberDevice
	if window <= 0 {
		return false, 0
	}
	if m := st.missing(partDevice); m != 0 {
		return false, m
	}
	at := st.deviceAt
	if at == nil || st.now.Sub(*at) > window {
		return false, 0
	}
	if mark := st.user.SessionsNotBefore; mark != nil && at.Before(mark.Truncate(time.Second)) {
		return false, 0
	}
	if m := st.missing(partMarks); m != 0 {
		return false, m
	}
	return !at.Before(st.notBefore.Truncate(time.Second)), 0 // the cookie keeps whole seconds
}

// sessionLive reports whether a live session may still serve a request
// under the effective policy: its lifetime and idle timeout, and the
// user's and provider-wide session marks.
func sessionLive(sess *storage.Session, u *storage.User, eff policy.Effective, notBefore, now time.Time) bool {
	switch {
	case now.Sub(sess.CreatedAt) > eff.SessionLifetime:
		return false
	case eff.IdleTimeout > 0 && now.Sub(sess.LastSeenAt) > eff.IdleTimeout:
		return false
	case u.SessionsNotBefore != nil && sess.CreatedAt.Before(*u.SessionsNotBefore):
		return false
	}
	return !sess.CreatedAt.Before(notBefore)
}

// mfaFreshAt reports whether the session completed a second factor
// recently enough at now to satisfy a request that needs one.
func mfaFreshAt(sess *storage.Session, now time.Time) bool {
	return sess.MFAAt != nil && now.Sub(*sess.MFAAt) < MFAFreshness
}

// enrollable lists the methods a user may enrol under the policy, the
// authenticator app first.
func enrollable(eff policy.Effective) []storage.Method {
	var out []storage.Method
	for _, m := range []storage.Method{storage.MethodTOTP, storage.MethodSMS, storage.MethodEmail} {
		if eff.Allows(m) {
			out = append(out, m)
		}
	}
	return out
}

// sessionUsable is sessionLive for the account pages, which read the
// provider-wide mark only when the rest holds.
func (s *Service) sessionUsable(ctx context.Context, sess *storage.Session, u *storage.User, eff policy.Effective) (bool, error) {
	now := s.cfg.Now()
	if !sessionLive(sess, u, eff, time.Time{}, now) {
		return false, nil
	}
	notBefore, err := s.cfg.Store.GlobalNotBefore(ctx)
	if err != nil {
		return false, err
	}
	return sessionLive(sess, u, eff, notBefore, now), nil
}

// mfaFresh is mfaFreshAt now.
func (s *Service) mfaFresh(sess *storage.Session) bool { return mfaFreshAt(sess, s.cfg.Now()) }
