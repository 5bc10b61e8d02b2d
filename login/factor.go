package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/login/contact"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/login/sender"
	"github.com/twofold-id/twofold/storage"
)

// OTPSettings are the one-time-code parameters.
type OTPSettings struct {
	Digits         int
	TTL            time.Duration
	MaxAttempts    int
	ResendCooldown time.Duration
	MaxResends     int
	// Fallback lists, per channel, the channels tried when it fails.
	Fallback map[sender.Channel][]sender.Channel
}

// amrOf is the RFC 8176 value of the channel that delivered a code; email
// has no registered value, so it says "email" rather than pretend.
func amrOf(channel storage.Method) string {
	switch channel {
	case storage.MethodTOTP:
		return "otp"
	case storage.MethodSMS:
		return "sms"
	case storage.MethodVoice:
		return "tel"
	}
	return "email"
}

// methodLabels are the catalogue ids of the methods' names.
var methodLabels = map[storage.Method]string{storage.MethodSMS: "method.sms", storage.MethodVoice: "method.voice",
	storage.MethodEmail: "method.email", storage.MethodTOTP: "method.totp"}

// codeFactors returns the user's usable, verified methods (codes sent by
// SMS, call or email, and authenticator apps), preferred first.
func (s *Service) codeFactors(ctx context.Context, userID string) ([]storage.SecondFactor, error) {
	all, err := s.cfg.Store.SecondFactors(ctx, userID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(f storage.SecondFactor) bool {
		if f.VerifiedAt == nil {
			return true
		}
		if f.Method == storage.MethodTOTP {
			return len(f.Secret) == 0
		}
		return !f.Method.SendsCode() || f.Destination == ""
	}), nil
}

// pendingRequest loads a request whose password step succeeded in this
// browser and whose second factor is still due.
func (s *Service) pendingRequest(r *http.Request) (*storage.AuthRequest, *storage.User, error) {
	a, err := s.loadRequest(r)
	if err != nil {
		return nil, nil, err
	}
	if !s.sameBrowser(r, a.BrowserHash) || a.PendingUserID == "" || a.DoneAt != nil {
		return nil, nil, errUnknownRequest
	}
	u, err := s.cfg.Store.User(r.Context(), a.PendingUserID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, nil, errUnknownRequest
	}
	return a, u, err
}

// codePageData is what the code page shows.
type codePageData struct {
	Title, AuthRequestID, Notice, Error string
	Digits                              int
	Cooldown                            int // seconds until "Send a new code" works
	CanResend                           bool
	Recovery                            bool // the user has recovery codes left
	Methods                             []methodOption
}

type methodOption struct {
	Method storage.Method
	Label  string // a catalogue id
}

// showCode renders the code page for the request's newest challenge.
func (s *Service) showCode(w http.ResponseWriter, r *http.Request) error {
	st, err := s.pending(r, stepCode)
	if err != nil {
		return err
	}
	return s.renderCode(w, r, st, http.StatusOK, i18n.Message{})
}

// renderCode renders the code page of a sign-in, with msg as its error.
func (s *Service) renderCode(w http.ResponseWriter, r *http.Request, st *state, status int, msg i18n.Message) error {
	if err := s.load(r, st, partFactors|partChallenge); err != nil {
		return err
	}
	ch := st.challenge
	if ch == nil { // no code was sent: an enrolling sign-in
		return errUnknownRequest
	}
	rules := rulesOf(st.policy)
	p := codePageData{Title: "code.title", AuthRequestID: st.req.ID, Error: s.Say(r, msg), Digits: rules.digitsOf(ch),
		Notice:    s.Say(r, notice(ch, rules.digits)),
		CanResend: rules.maySend(st.sent) && ch.Method != storage.MethodTOTP}
	left, err := s.cfg.Store.RecoveryCodesLeft(r.Context(), st.user.ID)
	if err != nil {
		return err
	}
	p.Recovery = left > 0
	if wait := rules.resendWait(ch, st.now); wait > 0 {
		p.Cooldown = int(wait.Seconds() + 0.999)
	}
	for _, f := range st.factors {
		if f.Method != ch.Method {
			p.Methods = append(p.Methods, methodOption{f.Method, methodLabels[f.Method]})
		}
	}
	s.render(w, r, status, "code.html", p)
	return nil
}

// notice tells the user where the code went, masked, and says so plainly
// when it went somewhere else than they chose.
func notice(ch *storage.Challenge, digits int) i18n.Message {
	if ch.Method == storage.MethodTOTP {
		if ch.FallbackFrom != "" {
			return i18n.M("code.notice.totp_fallback", "CouldNot", couldNot(ch.FallbackFrom))
		}
		return i18n.M("code.notice.totp")
	}
	masked := contact.MaskPhone(ch.Destination)
	if ch.Channel == storage.MethodEmail {
		masked = contact.MaskEmail(ch.Destination)
	}
	id := "code.notice.sms"
	switch {
	case ch.FallbackFrom != "" && ch.Channel == storage.MethodEmail:
		id = "code.notice.fallback_email"
	case ch.FallbackFrom != "" && ch.Channel == storage.MethodVoice:
		id = "code.notice.fallback_voice"
	case ch.FallbackFrom != "":
		id = "code.notice.fallback"
	case ch.Channel == storage.MethodVoice:
		id = "code.notice.voice"
	case ch.Channel == storage.MethodEmail:
		id = "code.notice.email"
	}
	return i18n.M(id, "CouldNot", couldNot(ch.FallbackFrom), "To", masked, "Digits", digits)
}

// couldNot says which way of reaching the user failed before a fallback.
func couldNot(method storage.Method) i18n.Message {
	switch method {
	case storage.MethodSMS, storage.MethodVoice, storage.MethodEmail:
		return i18n.M("code.could_not." + string(method))
	}
	return i18n.M("code.could_not.any")
}

// postCode checks a code. Every guess is counted against the sign-in's
// latest challenge with one conditional UPDATE before the comparison, so
// parallel guesses cannot exceed the limit.
func (s *Service) postCode(w http.ResponseWriter, r *http.Request) error {
	st, err := s.pending(r, stepCode)
	if err != nil {
		return err
	}
	code, ok := otp.Normalize(r.PostFormValue("code"))
	if !ok {
		return s.renderCode(w, r, st, http.StatusBadRequest, i18n.M("code.digits_only"))
	}
	if held, err := s.guardFactor(w, r, st); held || err != nil {
		return err
	}
	a, u := st.req, st.user
	ch, err := s.cfg.Store.SpendLatestAttempt(r.Context(), a.ID, st.now)
	if errors.Is(err, storage.ErrAlreadyUsed) {
		if err := s.release(r, u.ID); err != nil { // nothing was compared
			return err
		}
		ch, err := s.latestChallenge(r, st)
		if err != nil {
			return err
		}
		return s.renderCode(w, r, st, http.StatusUnauthorized, spentMessage(ch, st.now))
	} else if err != nil {
		return err
	}
	ok, err = s.checkCode(r.Context(), ch, u, code, st.now)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.failure(r, string(ch.Channel), u.ID, a.ClientID); err != nil {
			return err
		}
		left := attemptsLeft(ch, ch.Attempts)
		s.auditDetail(r, "code_failed", u.ID, a.ClientID, "rejected", fmt.Sprintf("channel=%s attempts_left=%d", ch.Channel, left))
		return s.renderCode(w, r, st, http.StatusUnauthorized, wrongCodeMessage(left))
	}
	if err := s.cfg.Store.UseChallenge(r.Context(), ch.ID, st.now); errors.Is(err, storage.ErrAlreadyUsed) {
		return s.renderCode(w, r, st, http.StatusUnauthorized, i18n.M("code.used"))
	} else if err != nil {
		return err
	}
	s.auditDetail(r, "code_ok", u.ID, a.ClientID, "accepted", "channel="+string(ch.Channel))
	return s.signIn(w, r, st, []string{"pwd", amrOf(ch.Channel), "mfa"}, ACRTwoFactor, true)
}

// latestChallenge returns the sign-in's latest challenge, to say why a
// guess was refused.
func (s *Service) latestChallenge(r *http.Request, st *state) (*storage.Challenge, error) {
	if err := s.load(r, st, partChallenge); err != nil {
		return nil, err
	}
	if st.challenge == nil { // no code was sent: an enrolling sign-in
		return nil, errUnknownRequest
	}
	return st.challenge, nil
}

// postResend sends a new code by the same method, after the cooldown.
func (s *Service) postResend(w http.ResponseWriter, r *http.Request) error {
	st, err := s.pending(r, stepResend)
	if err != nil {
		return err
	}
	return s.run(w, r, st)
}

// postMethod sends a code by another of the user's methods.
func (s *Service) postMethod(w http.ResponseWriter, r *http.Request) error {
	st, err := s.pending(r, stepMethod)
	if err != nil {
		return err
	}
	st.method, _ = storage.ParseMethod(r.PostFormValue("method")) // "" for no method: not available
	return s.run(w, r, st)
}

// checkCode compares a submitted code with a challenge: the keyed hash of
// a sent code, or the authenticator app's TOTP, whose accepted time step is
// recorded once so the same code cannot be used again.
func (s *Service) checkCode(ctx context.Context, ch *storage.Challenge, u *storage.User, code string, now time.Time) (bool, error) {
	if ch.Method != storage.MethodTOTP {
		return s.cfg.Codes.Verify(ch.CodeHash, ch.ID, code), nil
	}
	f, err := s.cfg.Store.SecondFactor(ctx, u.ID, storage.MethodTOTP)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	secret, err := s.openTOTPSecret(f)
	if err != nil {
		return false, err
	}
	step, ok := otp.VerifyTOTP(secret, code, now, f.LastStep)
	if !ok {
		return false, nil
	}
	if err := s.cfg.Store.AdvanceTOTPStep(ctx, f.ID, step); errors.Is(err, storage.ErrAlreadyUsed) {
		return false, nil // replayed on another request meanwhile
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// openTOTPSecret decrypts a TOTP seed, sealed bound to its row.
func (s *Service) openTOTPSecret(f *storage.SecondFactor) (string, error) {
	b, err := s.cfg.Keyring.Open(f.Secret, "second_factors.secret:"+f.ID)
	return string(b), err
}

// guardFactor applies the IP limit and the account's backoff before a code
// is checked; the user passed the password step, so the page may say so.
func (s *Service) guardFactor(w http.ResponseWriter, r *http.Request, st *state) (bool, error) {
	if wait, err := s.ipBlocked(r); err != nil || wait > 0 {
		if err != nil {
			return true, err
		}
		pe := tooManyFromIP(w, wait)
		return true, s.renderCode(w, r, st, pe.status, pe.message)
	}
	wait, held, err := s.accountHeld(r, st.user.ID)
	if err != nil || !held {
		return held, err
	}
	pe := errAccountHeld(w, wait)
	return true, s.renderCode(w, r, st, pe.status, pe.message)
}
