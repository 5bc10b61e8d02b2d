package login

import (
	"errors"
	"net/http"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/login/guard"
	"github.com/twofold-id/twofold/storage"
)

// act does what decide said: the writes, the sending and the answer.
func (s *Service) act(w http.ResponseWriter, r *http.Request, st *state, d decision) error {
	a := st.req
	if n := d.note; n.event != "" {
		s.audit(r, n.event, n.userID, a.ClientID, n.outcome)
	}
	switch d.act {
	case actCallback:
		http.Redirect(w, r, s.cfg.CallbackURL(a.ID), http.StatusSeeOther)
		return nil
	case actPassword:
		return s.showPassword(w, r, a, http.StatusOK, a.LoginHint, i18n.Message{})
	case actOAuthError:
		return s.redirectError(w, r, a, d.oauth[0], d.oauth[1])
	case actSSO:
		return s.reuseSession(w, r, st)
	case actComplete:
		return s.signIn(w, r, st, d.amr, d.acr, false)
	case actEnrol:
		return s.enrolFirst(w, r, st)
	case actSend:
		return s.sendFirstCode(w, r, st, d.try)
	case actCapped:
		s.audit(r, "code_send_refused", st.user.ID, a.ClientID, "per-login cap")
		s.cfg.Metrics.SendBlocked(string(d.try[0].Method), "resend")
		return errTooManySends
	case actRefuse:
		setRetryAfter(w, d.retryAfter)
		return d.page
	case actCodePage:
		setRetryAfter(w, d.retryAfter)
		return s.renderCode(w, r, st, d.page.status, d.page.message)
	}
	return errors.New("login: decide answered nothing")
}

// reuseSession completes the request from the browser's live session.
func (s *Service) reuseSession(w http.ResponseWriter, r *http.Request, st *state) error {
	sess := st.session
	if err := s.cfg.Store.TouchSession(r.Context(), sess.ID, st.now); err != nil {
		return err
	}
	s.audit(r, "sso", st.user.ID, st.req.ClientID, "session reused")
	return s.complete(w, r, st.req, sess.ID, storage.Completion{
		UserID: st.user.ID, AuthTime: sess.AuthTime, AMR: sess.AMR, ACR: sess.ACR,
	})
}

// enrolFirst takes a user whom policy requires a second factor of, and
// who has none it allows, through enrolment before the sign-in completes.
func (s *Service) enrolFirst(w http.ResponseWriter, r *http.Request, st *state) error {
	if err := s.setPending(r, st); err != nil {
		return err
	}
	s.audit(r, "enrolment_required", st.user.ID, st.req.ClientID, "redirected")
	http.Redirect(w, r, "/login/enrol?authRequestID="+st.req.ID, http.StatusSeeOther)
	return nil
}

// setPending records that the request waits for the user's second factor
// (the code pages then know who signs in).
func (s *Service) setPending(r *http.Request, st *state) error {
	if st.req.PendingUserID == st.user.ID {
		return nil
	}
	err := s.cfg.Store.SetPendingUser(r.Context(), st.req.ID, st.user.ID)
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return errUnknownRequest
	}
	return err
}

// sendFirstCode sends a code and leads to the code page. A refusal of the
// limits is answered on the code page when the user is on it already
// (resend, another method), and as a page of its own after the password
// or a step-up.
func (s *Service) sendFirstCode(w http.ResponseWriter, r *http.Request, st *state, try []storage.SecondFactor) error {
	onCodePage := st.step == stepResend || st.step == stepMethod
	if !onCodePage {
		if err := s.setPending(r, st); err != nil {
			return err
		}
	}
	err := s.sendCode(r, st, try)
	switch {
	case errors.Is(err, guard.ErrRefused) && onCodePage:
		pe := errSendLimited(w, err)
		return s.renderCode(w, r, st, pe.status, pe.message)
	case errors.Is(err, guard.ErrRefused):
		return errSendLimited(w, err)
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/login/code?authRequestID="+st.req.ID, http.StatusSeeOther)
	return nil
}
