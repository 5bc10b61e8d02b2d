package sender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/login/sender"
)

const code = "402718"

func smsMessage(to string) sender.Message {
	return sender.Message{
		Channel: sender.SMS, To: to, Code: code, Issuer: "https://id.example.com:8443/",
		AppName: "twofold", TTL: 5 * time.Minute, Purpose: sender.PurposeSignIn,
	}
}

func twilioOpts(f *testkit.FakeTwilio) sender.TwilioOptions {
	return sender.TwilioOptions{
		AccountSID: f.AccountSID, AuthToken: f.AuthToken, From: "+15550100000",
		BaseURL: f.URL, Timeout: 2 * time.Second,
	}
}

// noSecret fails the test if err's text carries the code.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	t.Logf("error: %v", err)
	if strings.Contains(err.Error(), code) {
		t.Errorf("error text contains the code: %q", err)
	}
}

func TestTwilioSMS(t *testing.T) {
	// twilio-go reads these when our code forgets to pass its own settings.
	t.Setenv("TWILIO_ACCOUNT_SID", "ACfromenvironment")
	t.Setenv("TWILIO_AUTH_TOKEN", "fromenvironment")
	t.Setenv("TWILIO_EDGE", "sydney")
	t.Setenv("TWILIO_REGION", "au1")

	f := testkit.NewTwilio(t)
	s, err := sender.NewTwilioSMS(twilioOpts(f))
	if err != nil {
		t.Fatal(err)
	}
	sid, err := s.Send(t.Context(), smsMessage("+15550101111"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := f.Messages()
	if len(msgs) != 1 {
		t.Fatalf("fake got %d messages", len(msgs))
	}
	m := msgs[0]
	if sid != m.SID || !strings.HasPrefix(sid, "SM") {
		t.Errorf("provider id %q, fake SID %q", sid, m.SID)
	}
	want := "Your twofold code is 402718. It expires in 5 minutes.\n\n@id.example.com:8443 #402718"
	if m.Body != want {
		t.Errorf("body =\n%q\nwant\n%q", m.Body, want)
	}
	if m.To != "+15550101111" || m.From != "+15550100000" || m.MessagingServiceSID != "" {
		t.Errorf("message = %+v", m)
	}
	if got := f.LastCode("+15550101111"); got != code {
		t.Errorf("LastCode = %q", got)
	}
}

func TestTwilioSMSMessagingService(t *testing.T) {
	f := testkit.NewTwilio(t)
	o := twilioOpts(f)
	o.From, o.MessagingServiceSID = "", "MG0123456789abcdef0123456789abcdef"
	o.BaseURL = f.URL + "/"
	s, err := sender.NewTwilioSMS(o)
	if err != nil {
		t.Fatal(err)
	}
	m := smsMessage("+15550101111")
	m.Purpose = sender.PurposeVerify
	if _, err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := f.Messages()[0]
	if got.From != "" || got.MessagingServiceSID != o.MessagingServiceSID {
		t.Errorf("message = %+v, want messaging service and no From", got)
	}
	if !strings.HasPrefix(got.Body, "Your twofold verification code is 402718.") {
		t.Errorf("verify wording: %q", got.Body)
	}
}

func TestTwilioSMSExpiryWording(t *testing.T) {
	f := testkit.NewTwilio(t)
	s, err := sender.NewTwilioSMS(twilioOpts(f))
	if err != nil {
		t.Fatal(err)
	}
	for ttl, want := range map[time.Duration]string{
		time.Minute:      "It expires in 1 minute.",
		10 * time.Minute: "It expires in 10 minutes.",
		90 * time.Second: "It expires in 90 seconds.",
		2 * time.Hour:    "It expires in 2 hours.",
	} {
		m := smsMessage("+15550101111")
		m.TTL = ttl
		if _, err := s.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		msgs := f.Messages()
		if body := msgs[len(msgs)-1].Body; !strings.Contains(body, want) {
			t.Errorf("TTL %v: body %q lacks %q", ttl, body, want)
		}
	}
}

func TestTwilioOptionsRejected(t *testing.T) {
	base := sender.TwilioOptions{AccountSID: "AC1", AuthToken: "t", From: "+15550100000"}
	tests := []struct {
		name   string
		change func(*sender.TwilioOptions)
	}{
		{"from and messaging service", func(o *sender.TwilioOptions) { o.MessagingServiceSID = "MG1" }},
		{"neither from nor messaging service", func(o *sender.TwilioOptions) { o.From = "" }},
		{"no account", func(o *sender.TwilioOptions) { o.AccountSID = "" }},
		{"no token", func(o *sender.TwilioOptions) { o.AuthToken = "" }},
		{"api key without secret", func(o *sender.TwilioOptions) { o.APIKey = "SK1" }},
		{"bad base URL", func(o *sender.TwilioOptions) { o.BaseURL = "api.twilio.com" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.change(&o)
			if _, err := sender.NewTwilioSMS(o); err == nil {
				t.Error("NewTwilioSMS accepted the options")
			}
		})
	}
	if _, err := sender.NewTwilioVoice(sender.TwilioOptions{AccountSID: "AC1", AuthToken: "t", MessagingServiceSID: "MG1"}); err == nil {
		t.Error("NewTwilioVoice accepted options without From")
	}
}

func TestTwilioVoice(t *testing.T) {
	f := testkit.NewTwilio(t)
	v, err := sender.NewTwilioVoice(twilioOpts(f))
	if err != nil {
		t.Fatal(err)
	}
	m := smsMessage("+15550102222")
	m.Channel = sender.Voice
	m.AppName = `Acme <"ID"> & Co`
	sid, err := v.Send(t.Context(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	calls := f.Calls()
	if len(calls) != 1 || calls[0].SID != sid || !strings.HasPrefix(sid, "CA") {
		t.Fatalf("calls %+v, sid %q", calls, sid)
	}
	c := calls[0]
	if c.From != "+15550100000" || c.To != "+15550102222" {
		t.Errorf("call = %+v", c)
	}
	var doc struct {
		Say []string `xml:"Say"`
	}
	if err := xml.Unmarshal([]byte(c.Twiml), &doc); err != nil {
		t.Fatalf("TwiML is not XML: %v\n%s", err, c.Twiml)
	}
	if strings.Count(c.Twiml, "4, 0, 2, 7, 1, 8") != 2 {
		t.Errorf("TwiML does not say the digits twice: %s", c.Twiml)
	}
	if !strings.Contains(c.Twiml, "<Pause") || len(doc.Say) != 2 {
		t.Errorf("want two Says with a pause: %s", c.Twiml)
	}
	if !strings.Contains(doc.Say[0], `Acme <"ID"> & Co`) {
		t.Errorf("app name lost in escaping: %q", doc.Say[0])
	}
	if got := f.LastCode("+15550102222"); got != code {
		t.Errorf("LastCode = %q", got)
	}
}

func TestTwilioAPIKey(t *testing.T) {
	f := testkit.NewTwilio(t)
	f.AddAPIKey("SK0123456789abcdef", "keysecret0123")
	o := twilioOpts(f)
	o.AuthToken, o.APIKey, o.APISecret = "", "SK0123456789abcdef", "keysecret0123"
	s, err := sender.NewTwilioSMS(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(t.Context(), smsMessage("+15550101111")); err != nil {
		t.Fatalf("Send with API key: %v", err)
	}
}

func TestTwilioErrors(t *testing.T) {
	f := testkit.NewTwilio(t)
	sms, err := sender.NewTwilioSMS(twilioOpts(f))
	if err != nil {
		t.Fatal(err)
	}
	o := twilioOpts(f)
	o.AuthToken = "wrongtoken"
	badCreds, err := sender.NewTwilioVoice(o)
	if err != nil {
		t.Fatal(err)
	}
	voice := sender.Sender(badCreds)

	t.Run("server error", func(t *testing.T) {
		f.Fail(http.StatusInternalServerError)
		t.Cleanup(f.Reset)
		_, err := sms.Send(t.Context(), smsMessage("+15550101111"))
		noSecret(t, err)
		if !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "20500") {
			t.Errorf("error does not name status and Twilio code: %v", err)
		}
	})
	t.Run("wrong credentials", func(t *testing.T) {
		m := smsMessage("+15550101111")
		m.Channel = sender.Voice
		_, err := voice.Send(t.Context(), m)
		noSecret(t, err)
		if !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "20003") {
			t.Errorf("error does not name status and Twilio code: %v", err)
		}
		if n := len(f.Calls()); n != 0 {
			t.Errorf("fake recorded %d calls", n)
		}
	})
	t.Run("invalid message", func(t *testing.T) {
		m := smsMessage("")
		m.Issuer = "not a url"
		_, err := sms.Send(t.Context(), m)
		noSecret(t, err)
		m = smsMessage("+15550101111")
		m.Channel = sender.Email
		_, err = sms.Send(t.Context(), m)
		noSecret(t, err)
	})
}

// TestTwilioErrorRedacted uses an API that echoes the body in its error, as
// some validation errors do; the code must not come back in our error.
func TestTwilioErrorRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"code": 21617, "status": 400, "message": "Body too long: " + r.PostFormValue("Body") + r.PostFormValue("Twiml"),
			"more_info": "https://www.twilio.com/docs/errors/21617",
		})
	}))
	t.Cleanup(srv.Close)
	o := sender.TwilioOptions{AccountSID: "AC1", AuthToken: "t", From: "+15550100000", BaseURL: srv.URL}
	sms, _ := sender.NewTwilioSMS(o)
	voice, _ := sender.NewTwilioVoice(o)
	for _, s := range []sender.Sender{sms, voice} {
		m := smsMessage("+15550101111")
		m.Channel = ""
		_, err := s.Send(t.Context(), m)
		noSecret(t, err)
		if !strings.Contains(err.Error(), "21617") {
			t.Errorf("error lost the Twilio code: %v", err)
		}
	}
}

func TestTwilioTimeout(t *testing.T) {
	f := testkit.NewTwilio(t)
	f.Hang(time.Minute)
	o := twilioOpts(f)
	o.Timeout = 300 * time.Millisecond
	s, err := sender.NewTwilioSMS(o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Send(t.Context(), smsMessage("+15550101111"))
	noSecret(t, err)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send returned after %v with a 300ms timeout", d)
	}

	// The caller's context also ends a send, before Timeout.
	o.Timeout = time.Minute
	v, err := sender.NewTwilioVoice(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	m := smsMessage("+15550101111")
	m.Channel = sender.Voice
	_, err = v.Send(ctx, m)
	noSecret(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded in the chain", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send returned after %v with a 200ms context", d)
	}
}

func TestTwilioConcurrent(t *testing.T) {
	f := testkit.NewTwilio(t)
	s, err := sender.NewTwilioSMS(twilioOpts(f))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := s.Send(context.Background(), smsMessage("+15550101111")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(f.Messages()); n != 10 {
		t.Errorf("fake got %d messages, want 10", n)
	}
}

func emailMessage(to string) sender.Message {
	m := smsMessage(to)
	m.Channel = sender.Email
	return m
}

func smtpOpts(s *testkit.SMTPSink) sender.SMTPOptions {
	return sender.SMTPOptions{
		Host: s.Host, Port: s.Port, From: "twofold <no-reply@id.example.com>",
		Timeout: 2 * time.Second, InsecureSkipVerify: true,
	}
}

func TestSMTPStartTLSAuth(t *testing.T) {
	sink := testkit.NewSMTPSink(t)
	sink.RequireAuth("mailer", "s3cret")
	o := smtpOpts(sink)
	o.Username, o.Password = "mailer", "s3cret"
	s, err := sender.NewSMTP(o)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Send(t.Context(), emailMessage("alice@example.com"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	mails := sink.Messages()
	if len(mails) != 1 {
		t.Fatalf("sink got %d mails", len(mails))
	}
	m := mails[0]
	if id == "" || id != m.MessageID || !strings.HasSuffix(id, "@id.example.com>") {
		t.Errorf("provider id %q, Message-ID %q", id, m.MessageID)
	}
	if m.Subject != "Your twofold sign-in code" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if m.From != "no-reply@id.example.com" || len(m.To) != 1 || m.To[0] != "alice@example.com" {
		t.Errorf("envelope %q -> %q", m.From, m.To)
	}
	for name, body := range map[string]string{"text": m.TextBody, "html": m.HTMLBody} {
		if !strings.Contains(body, code) || !strings.Contains(body, "5 minutes") || !strings.Contains(body, "id.example.com:8443") {
			t.Errorf("%s part lacks code, TTL or host:\n%s", name, body)
		}
	}
	if !strings.Contains(m.HTMLBody, "<html") || strings.Contains(m.TextBody, "<p>") {
		t.Errorf("parts swapped or missing:\ntext %q\nhtml %q", m.TextBody, m.HTMLBody)
	}
	if got := sink.LastCode("alice@example.com"); got != code {
		t.Errorf("LastCode = %q", got)
	}
	headers, _, _ := strings.Cut(string(m.Raw), "\r\n\r\n")
	if strings.Contains(headers, code) {
		t.Errorf("the code is in the headers:\n%s", headers)
	}
}

func TestSMTPVerifyAndEscaping(t *testing.T) {
	sink := testkit.NewSMTPSink(t)
	s, err := sender.NewSMTP(smtpOpts(sink))
	if err != nil {
		t.Fatal(err)
	}
	m := emailMessage("bob@example.com")
	m.Purpose = sender.PurposeVerify
	m.AppName = "<script>x</script>"
	if _, err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()[0]
	if got.Subject != "Verify your email address" {
		t.Errorf("Subject = %q", got.Subject)
	}
	if strings.Contains(got.HTMLBody, "<script>") || !strings.Contains(got.HTMLBody, "&lt;script&gt;") {
		t.Errorf("HTML part does not escape the app name:\n%s", got.HTMLBody)
	}
	if !strings.Contains(got.TextBody, "verify your email address") {
		t.Errorf("text part lacks verify wording:\n%s", got.TextBody)
	}
}

func TestSMTPNoTLS(t *testing.T) {
	sink := testkit.NewSMTPSink(t)
	o := smtpOpts(sink)
	o.TLS = sender.TLSNone
	s, err := sender.NewSMTP(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(t.Context(), emailMessage("carol@example.com")); err != nil {
		t.Fatal(err)
	}
	if sink.LastCode("carol@example.com") != code {
		t.Error("mail not delivered")
	}
	o.Username = "mailer"
	if _, err := sender.NewSMTP(o); err == nil {
		t.Error("NewSMTP accepted a password over an unencrypted connection")
	}
}

func TestSMTPErrors(t *testing.T) {
	sink := testkit.NewSMTPSink(t)
	s, err := sender.NewSMTP(smtpOpts(sink))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("rejected", func(t *testing.T) {
		sink.Fail(550)
		t.Cleanup(sink.Reset)
		_, err := s.Send(t.Context(), emailMessage("alice@example.com"))
		noSecret(t, err)
		if !strings.Contains(err.Error(), "550") {
			t.Errorf("error does not name the SMTP code: %v", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		sink.RequireAuth("mailer", "s3cret")
		t.Cleanup(sink.Reset)
		o := smtpOpts(sink)
		o.Username, o.Password = "mailer", "wrong"
		bad, err := sender.NewSMTP(o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.Send(t.Context(), emailMessage("alice@example.com"))
		noSecret(t, err)
	})
	t.Run("hang", func(t *testing.T) {
		sink.Hang(time.Minute)
		t.Cleanup(sink.Reset)
		o := smtpOpts(sink)
		o.Timeout = 300 * time.Millisecond
		slow, err := sender.NewSMTP(o)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = slow.Send(t.Context(), emailMessage("alice@example.com"))
		noSecret(t, err)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send returned after %v with a 300ms timeout", d)
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		o := smtpOpts(sink)
		o.Port = 1
		closed, err := sender.NewSMTP(o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = closed.Send(t.Context(), emailMessage("alice@example.com"))
		noSecret(t, err)
	})
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("sink accepted %d mails", n)
	}
}

func TestSMTPConcurrent(t *testing.T) {
	sink := testkit.NewSMTPSink(t)
	s, err := sender.NewSMTP(smtpOpts(sink))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := s.Send(context.Background(), emailMessage("alice@example.com")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(sink.Messages()); n != 5 {
		t.Errorf("sink got %d mails, want 5", n)
	}
}

func TestSMTPOptionsRejected(t *testing.T) {
	for name, o := range map[string]sender.SMTPOptions{
		"no host":   {From: "a@example.com"},
		"bad from":  {Host: "localhost", From: "not an address"},
		"bad tls":   {Host: "localhost", From: "a@example.com", TLS: "ssl"},
		"bad port":  {Host: "localhost", From: "a@example.com", Port: 70000},
		"neg. time": {Host: "localhost", From: "a@example.com", Timeout: -time.Second},
	} {
		if _, err := sender.NewSMTP(o); err == nil {
			t.Errorf("%s: NewSMTP accepted %+v", name, o)
		}
	}
}

func TestLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	if _, err := sender.NewLog(logger, false); err == nil || !strings.Contains(err.Error(), "development") {
		t.Fatalf("NewLog outside dev mode: err = %v", err)
	}
	l, err := sender.NewLog(logger, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Send(t.Context(), emailMessage("alice@example.com")); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log output %q: %v", buf.String(), err)
	}
	if rec["level"] != "WARN" || rec["msg"] != "one-time code (development only)" ||
		rec["code"] != code || rec["to"] != "alice@example.com" || rec["channel"] != "email" {
		t.Errorf("log record = %v", rec)
	}
}

func TestSenderInterface(t *testing.T) {
	var _ sender.Sender = (*sender.TwilioSMS)(nil)
	var _ sender.Sender = (*sender.TwilioVoice)(nil)
	var _ sender.Sender = (*sender.SMTPEmail)(nil)
	var _ sender.Sender = (*sender.Log)(nil)
}
