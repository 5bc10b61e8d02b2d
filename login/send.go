package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login/guard"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/login/sender"
	"github.com/twofold-id/twofold/storage"
)

// errNoChannel answers a sign-in whose every method failed to deliver a
// code. It says plainly that nothing else is left: codes go only to a
// number or an address that the user or an admin vouched for.
var errNoChannel = errPage(http.StatusServiceUnavailable, "error.no_channel_heading", "error.no_channel")

// sendCode delivers a code by the first of the methods that can (the
// delivery chain of login/sender: each method's channel, its fallbacks to
// verified destinations, then the next method) and stores its challenge
// once it went out: a code that never went out is no challenge. decide
// checked the per-sign-in cap (st.sent) and the account's backoff. It
// returns a refusal of the limits (errors.Is guard.ErrRefused) when the
// last method was refused for now, errNoChannel when nothing could
// deliver.
func (s *Service) sendCode(r *http.Request, st *state, try []storage.SecondFactor) error {
	ctx, a, u := r.Context(), st.req, st.user
	rules := rulesOf(st.policy)
	code, err := otp.Generate(rules.digits)
	if err != nil {
		return err
	}
	d, err := s.chain.Deliver(ctx, plan(u, try, s.fallback(st.policy)), s.sendLimits(r), sender.Message{Code: code,
		Issuer: s.cfg.Issuer, AppName: s.cfg.AppName, TTL: rules.ttl, Purpose: sender.PurposeSignIn, Lang: s.MessageLang(r, u)})
	s.report(r, a, u, d)
	if errors.Is(err, sender.ErrUndeliverable) {
		return errNoChannel
	} else if err != nil {
		return err
	}
	ch := rules.challenge(keyring.RandomToken(16), st.now)
	ch.AuthRequestID, ch.UserID, ch.Method, ch.Channel = a.ID, u.ID, storage.Method(d.Method), storage.Method(d.Channel)
	ch.Destination, ch.FallbackFrom, ch.ProviderID = d.To, storage.Method(d.FallbackFrom), d.ProviderID
	if d.Channel == "" { // an authenticator app: the challenge only counts the guesses
		ch.Channel = ch.Method
	} else {
		ch.CodeHash = s.cfg.Codes.Hash(ch.ID, code)
	}
	if st.sent == 0 {
		return s.cfg.Store.CreateFirstChallenge(ctx, ch) // no earlier code to end
	}
	return s.cfg.Store.CreateChallenge(ctx, ch)
}

// fallback returns the configured fallback channels when the policy
// allows a failed text to go elsewhere.
func (s *Service) fallback(eff policy.Effective) map[sender.Channel][]sender.Channel {
	if !eff.SMSFallback {
		return nil
	}
	return s.cfg.OTP.Fallback
}

// plan is how a code may reach u: the methods to try in order, the
// configured fallbacks when the policy allows them, and the user's phone
// and address with whether anyone vouched for them.
func plan(u *storage.User, try []storage.SecondFactor, fallback map[sender.Channel][]sender.Channel) sender.Plan {
	phone := sender.Contact{To: u.Phone, Verified: u.PhoneVerified}
	p := sender.Plan{Fallback: fallback, Contacts: map[sender.Channel]sender.Contact{
		sender.SMS: phone, sender.Voice: phone, sender.Email: {To: u.Email, Verified: u.EmailVerified},
	}}
	for _, f := range try {
		opt := sender.Option{Method: string(f.Method)}
		if f.Method.SendsCode() { // a code method's own channel has its name
			opt.Channel, opt.To = sender.Channel(f.Method), f.Destination
		}
		p.Options = append(p.Options, opt)
	}
	return p
}

// report audits, logs and counts what a delivery did, attempt by attempt;
// never the code.
func (s *Service) report(r *http.Request, a *storage.AuthRequest, u *storage.User, d sender.Delivery) {
	for _, at := range d.Attempts {
		switch at.Outcome {
		case sender.Unverified:
			s.auditDetail(r, "code_fallback_skipped", u.ID, a.ClientID, "skipped",
				fmt.Sprintf("from=%s to=%s reason=unverified", at.Method, at.Channel))
		case sender.RefusedByLimit:
			var refused *guard.RefusedError
			if errors.As(at.Err, &refused) {
				s.auditDetail(r, "code_send_refused", u.ID, a.ClientID, "refused", refused.Detail())
				s.cfg.Metrics.SendBlocked(refused.Channel, string(refused.Limit))
			}
		case sender.Failed:
			s.cfg.Logger.WarnContext(r.Context(), "code delivery failed", "channel", at.Channel, "err", at.Err)
			s.auditDetail(r, "code_send_failed", u.ID, a.ClientID, "failed", fmt.Sprintf("channel=%s", at.Channel))
			s.cfg.Metrics.CodeSent(string(at.Channel), "failed")
		case sender.Exhausted:
			if at.Err == nil {
				s.audit(r, "code_send_failed", u.ID, a.ClientID, "no channel worked")
			}
		case sender.Sent:
			outcome := "sent"
			if at.Fallback {
				outcome = "fallback"
				s.auditDetail(r, "code_fallback", u.ID, a.ClientID, "ok", fmt.Sprintf("from=%s to=%s", at.Method, at.Channel))
			}
			s.cfg.Metrics.CodeSent(string(at.Channel), outcome)
			s.auditDetail(r, "code_sent", u.ID, a.ClientID, "ok", fmt.Sprintf("channel=%s provider_id=%s", at.Channel, at.ProviderID))
		}
	}
}

// sendLimits are the guard's send limits for the client of r, as the
// delivery chain asks them.
func (s *Service) sendLimits(r *http.Request) sender.Limits {
	if s.cfg.Guard == nil {
		return nil
	}
	return guardLimits{s.cfg.Guard, s.cfg.ClientIP(r)}
}

type guardLimits struct {
	g  Guard
	ip string
}

// AllowSend asks the guard; a country outside the allow-list is a lasting
// refusal, every other limit one for now.
func (l guardLimits) AllowSend(ctx context.Context, ch sender.Channel, to string) error {
	err := l.g.AllowSend(ctx, string(ch), to, l.ip)
	var refused *guard.RefusedError
	if errors.As(err, &refused) {
		return &sender.Refused{Err: err, Lasting: refused.Limit == guard.LimitCountry}
	}
	return err
}
