package testkit_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
)

// multipartMail has a quoted-printable text part and a base64 HTML part,
// as mail libraries produce them.
const multipartMail = "From: twofold <no-reply@example.com>\r\n" +
	"To: alice@example.com\r\n" +
	"Subject: =?UTF-8?q?Your_twofold_sign-in_code_=E2=9C=93?=\r\n" +
	"Message-ID: <abc123@example.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Enter this code =3D\r\n" +
	"    482913\r\n" +
	"It expires in 5 minutes, at port 8443.\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+RW50ZXIgdGhpcyBjb2RlOjwvcD48cD40\r\n" +
	"ODI5MTM8L3A+\r\n" +
	"--b1--\r\n"

// dial connects with net/smtp; with tls it upgrades with STARTTLS,
// trusting the sink's certificate.
func dial(t *testing.T, s *testkit.SMTPSink, startTLS bool) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if startTLS {
		pool := x509.NewCertPool()
		pool.AddCert(s.Certificate)
		if err := c.StartTLS(&tls.Config{ServerName: s.Host, RootCAs: pool}); err != nil {
			t.Fatalf("STARTTLS: %v", err)
		}
	}
	return c
}

// send runs MAIL, RCPT and DATA, returning the first error.
func send(c *smtp.Client, from, to, msg string) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	return w.Close()
}

func TestSMTPSinkStartTLSAuth(t *testing.T) {
	s := testkit.NewSMTPSink(t)
	s.RequireAuth("mailer", "s3cret")
	c := dial(t, s, true)
	if err := c.Auth(smtp.PlainAuth("", "mailer", "s3cret", s.Host)); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	if err := send(c, "no-reply@example.com", "alice@example.com", multipartMail); err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d mails", len(msgs))
	}
	m := msgs[0]
	if m.From != "no-reply@example.com" || len(m.To) != 1 || m.To[0] != "alice@example.com" {
		t.Errorf("envelope = %q -> %q", m.From, m.To)
	}
	if m.Subject != "Your twofold sign-in code ✓" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if m.MessageID != "<abc123@example.com>" {
		t.Errorf("MessageID = %q", m.MessageID)
	}
	if !strings.Contains(m.TextBody, "Enter this code =\r\n    482913\r\n") {
		t.Errorf("TextBody not decoded: %q", m.TextBody)
	}
	if m.HTMLBody != "<p>Enter this code:</p><p>482913</p>" {
		t.Errorf("HTMLBody = %q", m.HTMLBody)
	}
	if !strings.Contains(string(m.Raw), "Content-Transfer-Encoding: base64") {
		t.Error("Raw is not the message as received")
	}
	if got := s.LastCode("Alice@example.com"); got != "482913" {
		t.Errorf("LastCode = %q", got)
	}
}

func TestSMTPSinkAuthRequired(t *testing.T) {
	s := testkit.NewSMTPSink(t)
	s.RequireAuth("mailer", "s3cret")

	c := dial(t, s, true)
	if err := c.Auth(smtp.PlainAuth("", "mailer", "wrong", s.Host)); err == nil {
		t.Error("AUTH with a wrong password succeeded")
	}
	if err := c.Mail("no-reply@example.com"); err == nil {
		t.Error("MAIL without AUTH succeeded")
	}

	// AUTH is not offered on a plain connection.
	plain := dial(t, s, false)
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Error("AUTH offered before STARTTLS")
	}
	if ok, _ := plain.Extension("STARTTLS"); !ok {
		t.Error("STARTTLS not offered")
	}
	if len(s.Messages()) != 0 {
		t.Fatal("unauthenticated mail accepted")
	}
}

func TestSMTPSinkPlain(t *testing.T) {
	s := testkit.NewSMTPSink(t)
	c := dial(t, s, false)
	msg := "Subject: hi\r\n\r\nyour code 1234567\r\n"
	if err := send(c, "a@example.com", "b@example.com", msg); err != nil {
		t.Fatal(err)
	}
	if got := s.LastCode("b@example.com"); got != "1234567" {
		t.Errorf("LastCode = %q", got)
	}
	if got := s.LastCode("a@example.com"); got != "" {
		t.Errorf("LastCode of the sender = %q", got)
	}
}

func TestSMTPSinkFailAndReset(t *testing.T) {
	s := testkit.NewSMTPSink(t)
	s.Fail(451)
	c := dial(t, s, false)
	err := send(c, "a@example.com", "b@example.com", "Subject: x\r\n\r\n123456\r\n")
	var perr *textproto.Error
	if !errors.As(err, &perr) || perr.Code != 451 {
		t.Fatalf("err = %v, want SMTP 451", err)
	}
	if len(s.Messages()) != 0 {
		t.Fatal("failed mail recorded")
	}
	s.Reset()
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "a@example.com", "b@example.com", "Subject: x\r\n\r\n123456\r\n"); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
	s.Reset()
	if len(s.Messages()) != 0 {
		t.Fatal("Reset kept mails")
	}
}

func TestSMTPSinkHangDoesNotBlockCleanup(t *testing.T) {
	start := time.Now()
	done := make(chan error, 1)
	t.Run("hang", func(t *testing.T) {
		s := testkit.NewSMTPSink(t)
		s.Hang(time.Minute)
		c, err := smtp.Dial(s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer c.Close()
			done <- send(c, "a@example.com", "b@example.com", "Subject: x\r\n\r\n123456\r\n")
		}()
		time.Sleep(50 * time.Millisecond) // let DATA reach the sink
	})
	if err := <-done; err == nil {
		t.Error("send to a closed hanging sink succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cleanup of a hanging sink took %v", d)
	}
}
