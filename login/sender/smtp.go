package sender

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/web"
)

// SMTP TLS modes for SMTPOptions.TLS.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	TLSImplicit = "tls"      // TLS from the first byte (usually port 465)
	TLSNone     = "none"     // no encryption; for a relay on the same host only
)

// SMTPOptions configures the email sender.
type SMTPOptions struct {
	Host               string
	Port               int    // default 587 for starttls and none, 465 for tls
	TLS                string // TLSStartTLS (default), TLSImplicit or TLSNone
	Username, Password string // AUTH (PLAIN or LOGIN, chosen by the server) only when Username is set
	From               string // sender address, optionally with a name: "twofold <no-reply@example.com>"
	Timeout            time.Duration
	InsecureSkipVerify bool // accept any server certificate; tests only
}

// SMTPEmail sends codes by email, with an HTML and a plain-text part.
type SMTPEmail struct {
	client  *gomail.Client
	from    string
	domain  string // of the From address, for Message-IDs
	timeout time.Duration
	html    *i18n.Pages // code.html and notice.html, in every language
	text    *i18n.Texts // code.txt and notice.txt
}

// NewSMTP returns an email sender. It parses the email templates once, so
// a missing or broken template fails at start rather than at the first
// sign-in.
func NewSMTP(opts SMTPOptions) (*SMTPEmail, error) {
	var errs []error
	if opts.Host == "" {
		errs = append(errs, errors.New("smtp: host is required"))
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		errs = append(errs, fmt.Errorf("smtp: from %q is not an email address", opts.From))
	}
	if opts.Port < 0 || opts.Port > 65535 {
		errs = append(errs, fmt.Errorf("smtp: port %d out of range", opts.Port))
	}
	if opts.Timeout < 0 {
		errs = append(errs, fmt.Errorf("smtp: negative timeout %v", opts.Timeout))
	}
	mode := opts.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	mailOpts, port, err := tlsOptions(mode, opts)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	mailOpts = append(mailOpts, gomail.WithPort(port), gomail.WithTimeout(timeout))
	if opts.Username != "" {
		mailOpts = append(mailOpts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(opts.Username), gomail.WithPassword(opts.Password))
	}
	client, err := gomail.NewClient(opts.Host, mailOpts...)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}

	s := &SMTPEmail{client: client, from: opts.From, timeout: timeout}
	s.domain = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	if err := i18n.Check(); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	if s.html, err = i18n.Default().ParsePages(web.FS, "templates/email/*.html"); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	if s.text, err = i18n.Default().ParseTexts(web.FS, "templates/email/*.txt"); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return s, nil
}

// tlsOptions maps the TLS mode to go-mail options and the default port.
func tlsOptions(mode string, o SMTPOptions) ([]gomail.Option, int, error) {
	tlsConfig := &tls.Config{
		ServerName:         o.Host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: o.InsecureSkipVerify, //nolint:gosec // tests only, documented
	}
	port := o.Port
	switch mode {
	case TLSStartTLS:
		if port == 0 {
			port = 587
		}
		return []gomail.Option{gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tlsConfig)}, port, nil
	case TLSImplicit:
		if port == 0 {
			port = 465
		}
		return []gomail.Option{gomail.WithSSL(), gomail.WithTLSConfig(tlsConfig)}, port, nil
	case TLSNone:
		if port == 0 {
			port = 587
		}
		if o.Username != "" {
			return nil, 0, errors.New("smtp: tls none with a username would send the password in clear text")
		}
		return []gomail.Option{gomail.WithTLSPolicy(gomail.NoTLS)}, port, nil
	}
	return nil, 0, fmt.Errorf("smtp: tls %q must be starttls, tls or none", mode)
}

// emailData is what the email templates see.
type emailData struct {
	Subject string
	AppName string
	Code    string
	TTL     string
	Host    string
	Verify  bool
}

// Send emails the code and returns the message's Message-ID header value.
// go-mail honours ctx only while dialling; later commands are bounded by
// the connection deadline, so Send also stops waiting when ctx ends.
func (s *SMTPEmail) Send(ctx context.Context, m Message) (string, error) {
	if err := m.validate(Email); err != nil {
		return "", fmt.Errorf("smtp: %w", err)
	}
	msg, err := s.message(m)
	if err != nil {
		return "", err
	}
	if err := s.deliver(ctx, msg); err != nil {
		return "", redact("smtp: send", err, m.Code)
	}
	return msg.GetMessageID(), nil
}

// deliver sends one message within the timeout. go-mail honours ctx only
// while dialling; later commands are bounded by the connection deadline,
// so deliver also stops waiting when ctx ends.
func (s *SMTPEmail) deliver(ctx context.Context, msg *gomail.Msg) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.client.DialAndSendWithContext(ctx, msg) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// message builds the mail; the subject never carries the code, which lock
// screens would otherwise show in notifications.
func (s *SMTPEmail) message(m Message) (*gomail.Msg, error) {
	host, err := issuerHost(m.Issuer)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	d := emailData{AppName: m.appName(), Code: m.Code, TTL: i18n.Default().Localize(m.Lang, humanDuration(m.TTL)), Host: host, Verify: m.verify()}
	d.Subject = m.say("email.subject_sign_in", "AppName", d.AppName)
	if d.Verify {
		d.Subject = m.say("email.subject_verify")
	}
	var html, text bytes.Buffer
	if err := s.html.Execute(&html, m.Lang, "code.html", d); err != nil {
		return nil, fmt.Errorf("smtp: render html: %w", err)
	}
	if err := s.text.Execute(&text, m.Lang, "code.txt", d); err != nil {
		return nil, fmt.Errorf("smtp: render text: %w", err)
	}

	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("smtp: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("smtp: to %q: %w", m.To, err)
	}
	msg.Subject(d.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(randomID() + "@" + s.domain)
	msg.SetBodyString(gomail.TypeTextPlain, text.String())
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return msg, nil
}

// randomID returns 128 random bits in hex for the Message-ID's local part.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
