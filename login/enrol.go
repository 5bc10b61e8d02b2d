package login

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login/contact"
	"github.com/twofold-id/twofold/login/guard"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/login/sender"
	"github.com/twofold-id/twofold/storage"
)

// Enrolment is written once and serves two places: the sign-in's forced
// enrolment under /login/enrol (a user whose policy requires a factor they
// lack, in the middle of a sign-in), and the account pages' "add a method"
// (a signed-in user, see MountEnrolment). Both show the same pages and
// prove a number, an address or an app the same way; only who enrols, the
// client whose policy applies and where the browser goes afterwards differ.

// signInEnrolPath is where the sign-in's forced enrolment lives.
const signInEnrolPath = "/login/enrol"

// enrolee is who enrols a method, and where: a user in the middle of a
// sign-in (a is set), or a user signed in elsewhere (at is set).
type enrolee struct {
	u  *storage.User
	a  *storage.AuthRequest
	at *Enrolment
}

// Enrolment places the enrolment pages outside a sign-in.
type Enrolment struct {
	// Path is where the pages are mounted: Path/totp, Path/phone,
	// Path/email, and Path/phone/verify, Path/email/verify for the code.
	Path string
	// ClientID is the client whose policy says which methods may be
	// enrolled and how verification codes are sent.
	ClientID string
	// Done is where the browser goes once a method is enrolled (after the
	// new recovery codes, when it gets them), and where the pages' cancel
	// link leads.
	Done string
	// User returns the signed-in user who enrols; its error is the page's.
	User func(w http.ResponseWriter, r *http.Request) (*storage.User, error)
}

// MountEnrolment registers the enrolment pages that e places on mux, each
// made a page by page (Page, or a wrapper of it).
func (s *Service) MountEnrolment(mux *http.ServeMux, e Enrolment, page func(HandlerFunc) http.Handler) {
	s.mountEnrolment(mux, e.Path, func(w http.ResponseWriter, r *http.Request) (*enrolee, error) {
		u, err := e.User(w, r)
		if err != nil {
			return nil, err
		}
		return &enrolee{u: u, at: &e}, nil
	}, page)
}

// enrolHandler is an enrolment page for the enrolee its route resolved.
type enrolHandler func(w http.ResponseWriter, r *http.Request, e *enrolee) error

func (s *Service) mountEnrolment(mux *http.ServeMux, path string, who func(http.ResponseWriter, *http.Request) (*enrolee, error), page func(HandlerFunc) http.Handler) {
	route := func(pattern string, h enrolHandler) {
		mux.Handle(pattern, page(func(w http.ResponseWriter, r *http.Request) error {
			e, err := who(w, r)
			if err != nil {
				return err
			}
			return h(w, r, e)
		}))
	}
	route("GET "+path+"/totp", s.showEnrolTOTP)
	route("POST "+path+"/totp", s.postEnrolTOTP)
	for _, m := range []storage.Method{storage.MethodSMS, storage.MethodEmail} {
		route("GET "+path+contactPaths[m], func(w http.ResponseWriter, r *http.Request, e *enrolee) error {
			return s.showEnrolContact(w, r, e, m)
		})
		route("POST "+path+contactPaths[m], func(w http.ResponseWriter, r *http.Request, e *enrolee) error {
			return s.postEnrolContact(w, r, e, m)
		})
		route("POST "+path+contactPaths[m]+"/verify", func(w http.ResponseWriter, r *http.Request, e *enrolee) error {
			return s.postEnrolVerify(w, r, e, m)
		})
	}
}

// contactPaths are the enrolment pages of the methods proven with a code.
var contactPaths = map[storage.Method]string{storage.MethodSMS: "/phone", storage.MethodEmail: "/email"}

// signInEnrolee is the user of a sign-in whose policy requires a factor
// they lack.
func (s *Service) signInEnrolee(_ http.ResponseWriter, r *http.Request) (*enrolee, error) {
	a, u, err := s.pendingRequest(r)
	if err != nil {
		return nil, err
	}
	return &enrolee{u: u, a: a}, nil
}

// clientID is the client whose policy applies.
func (e *enrolee) clientID() string {
	if e.a != nil {
		return e.a.ClientID
	}
	return e.at.ClientID
}

// path is where this enrolee's enrolment pages are.
func (e *enrolee) path() string {
	if e.a != nil {
		return signInEnrolPath
	}
	return e.at.Path
}

// query returns the query string that carries the sign-in, if any.
func (e *enrolee) query() string {
	if e.a == nil {
		return ""
	}
	return "?authRequestID=" + url.QueryEscape(e.a.ID)
}

// pageData is what every enrolment page shows of where it is: the form's
// path, the sign-in it carries, and the way back outside a sign-in.
func (e *enrolee) pageData(data map[string]any) map[string]any {
	data["Path"], data["AuthRequestID"] = e.path(), authRequestID(e)
	if e.at != nil {
		data["Back"] = e.at.Done
	}
	return data
}

// enrolMethods lists the methods the user may enrol here, per policy.
func (s *Service) enrolMethods(r *http.Request, e *enrolee) ([]storage.Method, error) {
	eff, err := s.policyFor(r.Context(), e.clientID(), e.u.ID)
	if err != nil {
		return nil, err
	}
	return enrollable(eff), nil
}

// showEnrolChoice is where a sign-in that requires a factor the user lacks
// leads: the choice of method, the authenticator app first.
func (s *Service) showEnrolChoice(w http.ResponseWriter, r *http.Request) error {
	e, err := s.signInEnrolee(w, r)
	if err != nil {
		return err
	}
	methods, err := s.enrolMethods(r, e)
	if err != nil {
		return err
	}
	if len(methods) == 0 {
		return errNeedsFactor
	}
	s.render(w, r, http.StatusOK, "enrol_choose.html", map[string]any{"Title": "enrol.choose.title",
		"Query": e.query(), "TOTP": slices.Contains(methods, storage.MethodTOTP),
		"SMS": slices.Contains(methods, storage.MethodSMS), "Email": slices.Contains(methods, storage.MethodEmail), "Forced": e.a != nil})
	return nil
}

// pendingTOTP returns the user's unverified authenticator enrolment,
// starting one when there is none, so a reload shows the same QR code.
func (s *Service) pendingTOTP(r *http.Request, u *storage.User) (*storage.SecondFactor, string, error) {
	f, err := s.cfg.Store.SecondFactor(r.Context(), u.ID, storage.MethodTOTP)
	if err == nil && f.VerifiedAt == nil && len(f.Secret) > 0 {
		secret, err := s.openTOTPSecret(f)
		return f, secret, err
	}
	if err == nil && f.VerifiedAt != nil {
		return nil, "", errPage(http.StatusConflict, "enrol.totp.already_heading", "enrol.totp.already")
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, "", err
	}
	secret, err := otp.NewTOTPSecret()
	if err != nil {
		return nil, "", err
	}
	f = &storage.SecondFactor{ID: keyring.RandomToken(16), UserID: u.ID, Method: storage.MethodTOTP, CreatedAt: s.cfg.Now()}
	f.Secret = s.cfg.Keyring.Seal([]byte(secret), "second_factors.secret:"+f.ID)
	return f, secret, s.cfg.Store.AddSecondFactor(r.Context(), f)
}

func (s *Service) showEnrolTOTP(w http.ResponseWriter, r *http.Request, e *enrolee) error {
	return s.renderEnrolTOTP(w, r, e, http.StatusOK, i18n.Message{})
}

func (s *Service) renderEnrolTOTP(w http.ResponseWriter, r *http.Request, e *enrolee, status int, msg i18n.Message) error {
	_, secret, err := s.pendingTOTP(r, e.u)
	if err != nil {
		return err
	}
	uri := otp.TOTPURI(s.issuerName(), e.u.Username, secret)
	png, err := otp.TOTPQRCodePNG(uri, 240)
	if err != nil {
		return err
	}
	s.render(w, r, status, "enrol_totp.html", e.pageData(map[string]any{"Title": "enrol.totp.title", "Query": e.query(),
		"QR":     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), // our own bytes
		"Secret": groupsOf4(secret), "URI": uri, "Error": s.Say(r, msg)}))
	return nil
}

// postEnrolTOTP finishes the enrolment only once the app proves it holds the
// secret with a valid code.
func (s *Service) postEnrolTOTP(w http.ResponseWriter, r *http.Request, e *enrolee) error {
	f, secret, err := s.pendingTOTP(r, e.u)
	if err != nil {
		return err
	}
	step, ok := otp.VerifyTOTP(secret, r.PostFormValue("code"), s.cfg.Now(), 0)
	if !ok {
		return s.renderEnrolTOTP(w, r, e, http.StatusUnauthorized, i18n.M("enrol.totp.wrong"))
	}
	if err := s.cfg.Store.VerifySecondFactor(r.Context(), f.ID, step, s.cfg.Now()); err != nil {
		return err
	}
	return s.enrolled(w, r, e, storage.MethodTOTP, "otp")
}

func (s *Service) showEnrolContact(w http.ResponseWriter, r *http.Request, e *enrolee, method storage.Method) error {
	// The form starts with what the account already has: most users verify
	// the address (or number) they signed up with.
	value := e.u.Phone
	if method == storage.MethodEmail {
		value = e.u.Email
	}
	return s.renderEnrolContact(w, r, e, method, http.StatusOK, value, i18n.Message{}, nil)
}

func (s *Service) renderEnrolContact(w http.ResponseWriter, r *http.Request, e *enrolee, method storage.Method, status int, value string, msg i18n.Message, ch *storage.Challenge) error {
	title := "enrol.contact.title_phone"
	if method == storage.MethodEmail {
		title = "enrol.contact.title_email"
	}
	data := e.pageData(map[string]any{"Title": title, "Method": method, "Value": value, "Error": s.Say(r, msg)})
	data["Action"] = e.path() + contactPaths[method]
	if ch != nil {
		data["Notice"] = s.Say(r, notice(ch, s.cfg.OTP.Digits))
		data["Sent"] = true
	}
	s.render(w, r, status, "enrol_contact.html", data)
	return nil
}

// postEnrolContact sends a verification code to a phone number or address;
// nothing is texted a sign-in code before it is verified.
func (s *Service) postEnrolContact(w http.ResponseWriter, r *http.Request, e *enrolee, method storage.Method) error {
	raw := strings.TrimSpace(r.PostFormValue("destination"))
	var dest string
	var err error
	if method == storage.MethodEmail {
		dest, err = contact.NormalizeEmail(raw)
	} else {
		dest, err = contact.NormalizePhone(raw, "")
	}
	if err != nil {
		return s.renderEnrolContact(w, r, e, method, http.StatusBadRequest, raw, i18n.M("enrol.contact.invalid", "Reason", err.Error()), nil)
	}
	if wait, ch, err := s.enrolCooldown(r, e, method, dest); err != nil {
		return err
	} else if wait > 0 {
		// The code already sent stays good: the page offers its form.
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		return s.renderEnrolContact(w, r, e, method, http.StatusTooManyRequests, raw,
			i18n.M("enrol.contact.cooldown", "Wait", humanWait(wait)), ch)
	}
	f := &storage.SecondFactor{ID: keyring.RandomToken(16), UserID: e.u.ID, Method: method, Destination: dest, CreatedAt: s.cfg.Now()}
	if err := s.cfg.Store.AddSecondFactor(r.Context(), f); err != nil {
		return err
	}
	ch, err := s.sendVerification(r, e.u, f)
	var refused *guard.RefusedError
	if errors.As(err, &refused) {
		if refused.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(refused.RetryAfter.Seconds()+0.999)))
		}
		return s.renderEnrolContact(w, r, e, method, http.StatusTooManyRequests, raw, refusedMessage(refused), nil)
	} else if err != nil {
		return err
	}
	return s.renderEnrolContact(w, r, e, method, http.StatusOK, raw, i18n.Message{}, ch)
}

// enrolCooldown is how long this enrolment must wait before another
// verification code goes to dest: the resend cooldown of sign-in codes
// (otp.resend_cooldown, or the policy's), counted from the code last sent
// to dest by the user's pending enrolment of method, which it returns.
// Another destination (a typo corrected) need not wait; the abuse limits
// per destination and per IP still apply to it.
func (s *Service) enrolCooldown(r *http.Request, e *enrolee, method storage.Method, dest string) (time.Duration, *storage.Challenge, error) {
	f, err := s.cfg.Store.SecondFactor(r.Context(), e.u.ID, method)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil, nil
	} else if err != nil {
		return 0, nil, err
	}
	if f.VerifiedAt != nil || f.Destination != dest {
		return 0, nil, nil
	}
	ch, err := s.cfg.Store.LatestChallenge(r.Context(), "enrol:"+f.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil, nil
	} else if err != nil {
		return 0, nil, err
	}
	eff, err := s.policyFor(r.Context(), e.clientID(), e.u.ID)
	if err != nil {
		return 0, nil, err
	}
	wait := rulesOf(eff).resendWait(ch, s.cfg.Now())
	if wait <= 0 {
		return 0, nil, nil
	}
	return wait, ch, nil
}

// sendVerification sends a code proving a new destination, within the
// abuse limits (a *guard.RefusedError when one refuses). It goes to that
// destination only: no fallback.
func (s *Service) sendVerification(r *http.Request, u *storage.User, f *storage.SecondFactor) (*storage.Challenge, error) {
	// The same limits as sign-in codes: enrolment must not become a way
	// to pump texts to numbers of an attacker's choosing.
	if err := s.allowSend(r, u.ID, "", string(f.Method), f.Destination); err != nil {
		return nil, err
	}
	rules := s.cfg.OTP.rules()
	code, err := otp.Generate(rules.digits)
	if err != nil {
		return nil, err
	}
	ch := rules.challenge(keyring.RandomToken(16), s.cfg.Now())
	ch.AuthRequestID, ch.UserID, ch.Method, ch.Channel, ch.Destination = "enrol:"+f.ID, u.ID, f.Method, f.Method, f.Destination
	ch.CodeHash = s.cfg.Codes.Hash(ch.ID, code)
	if err := s.cfg.Store.CreateChallenge(r.Context(), ch); err != nil {
		return nil, err
	}
	channel := sender.Channel(f.Method) // a code method's own channel has its name
	snd := s.cfg.Senders[channel]
	if snd == nil {
		return nil, errNoChannel
	}
	id, err := snd.Send(r.Context(), sender.Message{Channel: channel, To: f.Destination, Code: code,
		Issuer: s.cfg.Issuer, AppName: s.cfg.AppName, TTL: rules.ttl, Purpose: sender.PurposeVerify, Lang: s.MessageLang(r, u)})
	if err != nil {
		s.cfg.Logger.WarnContext(r.Context(), "verification code delivery failed", "channel", channel, "err", err)
		s.auditDetail(r, "verification_send_failed", u.ID, "", "failed", "channel="+string(channel))
		s.cfg.Metrics.CodeSent(string(channel), "failed")
		return nil, errNoChannel
	}
	s.cfg.Metrics.CodeSent(string(channel), "sent")
	s.auditDetail(r, "verification_sent", u.ID, "", "ok", fmt.Sprintf("channel=%s provider_id=%s", channel, id))
	return ch, nil
}

// postEnrolVerify checks the verification code and enrols the destination.
func (s *Service) postEnrolVerify(w http.ResponseWriter, r *http.Request, e *enrolee, method storage.Method) error {
	f, err := s.cfg.Store.SecondFactor(r.Context(), e.u.ID, method)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && f.VerifiedAt != nil) {
		return s.renderEnrolContact(w, r, e, method, http.StatusBadRequest, "", i18n.M("enrol.contact.start_again"), nil)
	} else if err != nil {
		return err
	}
	ch, err := s.cfg.Store.LatestChallenge(r.Context(), "enrol:"+f.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return s.renderEnrolContact(w, r, e, method, http.StatusBadRequest, "", i18n.M("enrol.contact.start_again"), nil)
	} else if err != nil {
		return err
	}
	now := s.cfg.Now()
	if _, err := s.cfg.Store.SpendAttempt(r.Context(), ch.ID, now); errors.Is(err, storage.ErrAlreadyUsed) {
		return s.renderEnrolContact(w, r, e, method, http.StatusUnauthorized, "", i18n.M("enrol.contact.spent"), nil)
	} else if err != nil {
		return err
	}
	if !s.cfg.Codes.Verify(ch.CodeHash, ch.ID, r.PostFormValue("code")) {
		return s.renderEnrolContact(w, r, e, method, http.StatusUnauthorized, "", i18n.M("enrol.contact.wrong"), ch)
	}
	if err := s.cfg.Store.UseChallenge(r.Context(), ch.ID, now); err != nil {
		return err
	}
	if err := s.cfg.Store.VerifySecondFactor(r.Context(), f.ID, 0, now); err != nil {
		return err
	}
	if err := s.cfg.Store.UpdateUserContact(r.Context(), e.u.ID, method, f.Destination, now); err != nil {
		return err
	}
	return s.enrolled(w, r, e, method, amrOf(method))
}

// enrolled finishes an enrolment: an audit event, recovery codes with the
// first factor, then the sign-in completes (or the browser goes to Done).
func (s *Service) enrolled(w http.ResponseWriter, r *http.Request, e *enrolee, method storage.Method, amr string) error {
	clientID := ""
	if e.a != nil {
		clientID = e.a.ClientID
	}
	s.auditDetail(r, "second_factor_enrolled", e.u.ID, clientID, "ok", "method="+string(method))
	s.Notify(r, e.u, i18n.M("notice.added_subject"), i18n.M("notice.added", "Method", i18n.M(MethodLabel(method))))
	var next string
	if e.a == nil {
		next = e.at.Done
	} else {
		callback, err := s.signInTo(w, r, s.newState(stepCode, e.a, e.u), []string{"pwd", amr, "mfa"}, ACRTwoFactor, true)
		if err != nil {
			return err
		}
		next = callback
	}
	left, err := s.cfg.Store.RecoveryCodesLeft(r.Context(), e.u.ID)
	if err != nil {
		return err
	}
	if left > 0 {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	_, err = s.ShowNewRecoveryCodes(w, r, e.u, next)
	return err
}

// MethodLabel is the catalogue id of a method's name ("method.totp":
// "Authenticator app").
func MethodLabel(m storage.Method) string {
	if l, ok := methodLabels[m]; ok {
		return l
	}
	return string(m)
}

func authRequestID(e *enrolee) string {
	if e.a == nil {
		return ""
	}
	return e.a.ID
}

// issuerName is the issuer shown in authenticator apps: its host.
func (s *Service) issuerName() string {
	if u, err := url.Parse(s.cfg.Issuer); err == nil && u.Host != "" {
		return strings.ReplaceAll(u.Host, ":", " ")
	}
	return "twofold"
}

// groupsOf4 spaces a secret for reading aloud and typing.
func groupsOf4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// refusedMessage tells an enrolling user why no code was sent.
func refusedMessage(e *guard.RefusedError) i18n.Message {
	if e.Limit == guard.LimitCountry {
		return i18n.M("enrol.contact.country")
	}
	return i18n.M("enrol.contact.too_many")
}
