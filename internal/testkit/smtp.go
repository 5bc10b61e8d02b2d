package testkit

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPSink is a real SMTP server on 127.0.0.1 that keeps what it receives.
// It offers STARTTLS with a self-signed certificate (clients must skip
// verification or trust Certificate) and accepts plain connections too;
// AUTH PLAIN is offered after STARTTLS. It is safe for concurrent use.
type SMTPSink struct {
	Host        string            // "127.0.0.1"
	Port        int               // the port the sink listens on
	Certificate *x509.Certificate // the self-signed STARTTLS certificate

	srv    *smtp.Server
	closed chan struct{}

	mu         sync.Mutex
	mails      []Mail
	fail       int
	hang       time.Duration
	user, pass string
}

// Mail is one message the sink accepted.
type Mail struct {
	From      string   // envelope sender (MAIL FROM)
	To        []string // envelope recipients (RCPT TO)
	Subject   string   // decoded Subject header
	TextBody  string   // decoded text/plain part
	HTMLBody  string   // decoded text/html part
	Raw       []byte   // the message as received
	MessageID string   // Message-ID header, with angle brackets
}

// NewSMTPSink starts a sink on a free port; it is closed in t.Cleanup.
func NewSMTPSink(t testing.TB) *SMTPSink {
	t.Helper()
	cert, err := selfSigned()
	if err != nil {
		t.Fatalf("testkit: smtp sink certificate: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: smtp sink listen: %v", err)
	}
	s := &SMTPSink{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Certificate: cert.Leaf, closed: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.MaxRecipients = 50

	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = s.srv.Serve(l) // returns smtp.ErrServerClosed after Close
	}()
	t.Cleanup(func() {
		close(s.closed) // releases hanging sessions
		_ = s.srv.Close()
		<-served
	})
	return s
}

// Addr returns host:port for clients that want one string.
func (s *SMTPSink) Addr() string { return net.JoinHostPort(s.Host, fmt.Sprint(s.Port)) }

// Messages returns the mails accepted so far, oldest first.
func (s *SMTPSink) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

var mailCode = regexp.MustCompile(`[0-9]{6,10}`)

// LastCode returns the first run of 6–10 digits in the text body of the
// newest mail to the address, or "" if there is none.
func (s *SMTPSink) LastCode(to string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.mails) - 1; i >= 0; i-- {
		for _, rcpt := range s.mails[i].To {
			if strings.EqualFold(rcpt, to) {
				return mailCode.FindString(s.mails[i].TextBody)
			}
		}
	}
	return ""
}

// Fail makes the sink reject every RCPT and DATA with the SMTP reply code
// (e.g. 550 or 451) until Reset.
func (s *SMTPSink) Fail(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = code
}

// Hang makes the sink wait d after receiving a message before answering
// DATA, or until it closes; until Reset.
func (s *SMTPSink) Hang(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = d
}

// RequireAuth makes the sink refuse MAIL without a successful AUTH PLAIN
// with these credentials (AUTH is offered only after STARTTLS); until Reset.
func (s *SMTPSink) RequireAuth(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = user, pass
}

// Reset forgets accepted mails and clears Fail, Hang and RequireAuth.
func (s *SMTPSink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mails, s.fail, s.hang, s.user, s.pass = nil, 0, 0, "", ""
}

// knobs returns the current behaviour under the lock.
func (s *SMTPSink) knobs() (fail int, hang time.Duration, user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail, s.hang, s.user, s.pass
}

// failure is the SMTP error for Fail's code.
func failure(code int) error {
	class := 5
	if code >= 400 && code < 500 {
		class = 4
	}
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, 0, 0}, Message: "Rejected by test sink"}
}

// sinkSession is one SMTP connection.
type sinkSession struct {
	sink   *SMTPSink
	authed bool
	from   string
	to     []string
}

func (ss *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *sinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		_, _, wantUser, wantPass := ss.sink.knobs()
		if wantUser != "" && (user != wantUser || pass != wantPass) {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if _, _, user, _ := ss.sink.knobs(); user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if fail, _, _, _ := ss.sink.knobs(); fail != 0 {
		return failure(fail)
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	fail, hang, _, _ := ss.sink.knobs()
	if hang > 0 {
		timer := time.NewTimer(hang)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ss.sink.closed:
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Test sink shutting down"}
		}
	}
	if fail != 0 {
		return failure(fail)
	}
	m, err := parseMail(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Unparsable message: " + err.Error()}
	}
	m.From, m.To = ss.from, append([]string(nil), ss.to...)
	ss.sink.mu.Lock()
	ss.sink.mails = append(ss.sink.mails, m)
	ss.sink.mu.Unlock()
	return nil
}

func (ss *sinkSession) Reset() { ss.from, ss.to = "", nil }

func (ss *sinkSession) Logout() error { return nil }

// parseMail decodes headers and the text and HTML parts of a message,
// descending into nested multiparts.
func parseMail(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	m := Mail{Raw: raw, MessageID: msg.Header.Get("Message-Id")}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Mail{}, fmt.Errorf("subject: %w", err)
	}
	err = walkPart(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m, err
}

// walkPart stores a text part or recurses into a multipart.
func walkPart(m *Mail, contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walkPart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	text, err := decodeBody(encoding, body)
	if err != nil {
		return err
	}
	switch mediaType {
	case "text/plain":
		if m.TextBody == "" {
			m.TextBody = text
		}
	case "text/html":
		if m.HTMLBody == "" {
			m.HTMLBody = text
		}
	}
	return nil
}

// decodeBody undoes the Content-Transfer-Encoding.
func decodeBody(encoding string, body io.Reader) (string, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &lineJoiner{r: body})
	}
	b, err := io.ReadAll(body)
	return string(b), err
}

// lineJoiner drops CR and LF so base64 bodies split into lines decode.
type lineJoiner struct{ r io.Reader }

func (l *lineJoiner) Read(p []byte) (int, error) {
	for {
		n, err := l.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// selfSigned makes a short-lived ECDSA certificate for 127.0.0.1 and
// localhost.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "twofold test SMTP sink"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
