// Package sender delivers one-time codes on the channels twofold supports:
// Twilio SMS, Twilio voice calls, SMTP email, and a log sender for
// development. Each channel implements the small Sender interface, and a
// Chain delivers a sign-in code along a Plan: each of the user's methods
// in turn, a failed channel's configured fallbacks (only to a verified
// destination), each send asked of the abuse limits first, reporting
// every attempt for the caller to audit.
//
// A one-time code is a secret: no sender logs it (except Log, which exists
// only in development mode), and no error returned from Send contains the
// code or the message body.
package sender

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/i18n"
)

// Channel names a way of delivering a code; the values are stored and shown.
type Channel string

// The delivery channels.
const (
	SMS   Channel = "sms"
	Voice Channel = "voice"
	Email Channel = "email"
)

// Purposes of a code, which change the wording of the message.
const (
	PurposeSignIn = "sign-in"
	PurposeVerify = "verify"
)

// Message is one one-time code to deliver.
type Message struct {
	Channel Channel
	To      string        // E.164 phone number (sms, voice) or email address (email)
	Code    string        // the one-time code; never logged (except by Log in development)
	Issuer  string        // issuer URL, e.g. "https://id.example.com"; its host is used for the origin-bound SMS line
	AppName string        // product name shown in texts, e.g. "twofold"
	TTL     time.Duration // how long the code is valid, said in the message
	Purpose string        // PurposeSignIn or PurposeVerify; changes the wording slightly
	Lang    language.Tag  // the language of the words (a catalogue's tag); the zero Tag is English
}

// Sender delivers a Message on one channel and returns the provider's
// message id (Twilio SID, SMTP Message-ID) so deliveries can be traced
// without recording the code.
type Sender interface {
	Send(ctx context.Context, m Message) (providerID string, err error)
}

// validate checks the fields every channel needs; its errors never quote
// the code.
func (m Message) validate(ch Channel) error {
	var errs []error
	if m.Channel != "" && m.Channel != ch {
		errs = append(errs, fmt.Errorf("message for channel %q sent on %q", m.Channel, ch))
	}
	if m.To == "" {
		errs = append(errs, errors.New("no recipient"))
	}
	if m.Code == "" {
		errs = append(errs, errors.New("no code"))
	}
	if strings.ContainsFunc(m.Code, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		errs = append(errs, errors.New("code contains spaces or control characters"))
	}
	if m.TTL <= 0 {
		errs = append(errs, errors.New("no TTL"))
	}
	if m.Purpose != "" && m.Purpose != PurposeSignIn && m.Purpose != PurposeVerify {
		errs = append(errs, fmt.Errorf("unknown purpose %q", m.Purpose))
	}
	return errors.Join(errs...)
}

// appName is the product name with a default, so a missing setting does
// not produce "Your  code".
func (m Message) appName() string {
	if m.AppName == "" {
		return "twofold"
	}
	return m.AppName
}

// verify reports whether the code confirms a new phone or address rather
// than signing in.
func (m Message) verify() bool { return m.Purpose == PurposeVerify }

// issuerHost returns host[:port] of the issuer URL for the origin-bound
// one-time-code line (https://wicg.github.io/sms-one-time-codes/).
func issuerHost(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("issuer %q is not an absolute URL", issuer)
	}
	return u.Host, nil
}

// humanDuration says a TTL the way a person would: "5 minutes",
// "1 minute", "90 seconds", "2 hours".
func humanDuration(d time.Duration) i18n.Message {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return i18n.M("ttl.hours", int64(d/time.Hour))
	case d >= time.Minute && d%time.Minute == 0:
		return i18n.M("ttl.minutes", int64(d/time.Minute))
	default:
		return i18n.M("ttl.seconds", int64((d+time.Second-1)/time.Second))
	}
}

// say says a catalogue message in m's language.
func (m Message) say(id string, args ...any) string {
	return i18n.Default().Text(m.Lang, id, args...)
}

// redactedError hides the code and body from an error's text while keeping
// the cause reachable with errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err with prefix, replacing every secret in its text; empty
// secrets are ignored.
func redact(prefix string, err error, secrets ...string) error {
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return &redactedError{msg: prefix + ": " + msg, err: err}
}
