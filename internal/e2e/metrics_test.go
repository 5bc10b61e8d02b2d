package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
)

// scrapeMetrics fetches /metrics as Prometheus would and returns every
// sample by its series ("name{label="value",…}"; labels in the order the
// exposition format sorts them) with the raw text.
func scrapeMetrics(t *testing.T, s *testkit.Server) (map[string]float64, string) {
	t.Helper()
	p := s.NewBrowser(t).Get("/metrics")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s", p)
	}
	samples := map[string]float64{}
	for line := range strings.SplitSeq(p.Body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("unparsable metrics line %q", line)
		}
		samples[line[:i]] = v
	}
	return samples, p.Body
}

// Every limit that refuses a send shows in twofold_send_blocked_total with
// its channel and reason, once per code_send_refused audit event; deliveries,
// fallbacks, provider failures and factor failures are counted beside it, and
// the endpoint carries none of the users, numbers, addresses or IPs involved.
func TestMetricsCountBlockedSends(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s, tw, _ := attackServer(t, o, func(c *configT) {
			c.Limits.IPSendsPer10m = 4
			c.Limits.SMSGlobalHourly = 6
		})
		users := map[string]string{ // username → phone
			"alice": alicePhone, "dave": "+14155550201", "brit": gbPhone,
			"bob": "+14155550202", "carol": "+14155550203",
		}
		for name, phone := range users {
			s.CreateUserWith(t, testkit.UserSpec{Username: name, Password: name + "-password", Phone: phone, Methods: []string{"sms"}})
		}
		s.CreateUserWith(t, testkit.UserSpec{Username: "erin", Password: "erin-password", Phone: "+14155550204", Methods: []string{"voice"}})
		app := s.NewRP(t, testkit.ClientOptions{})
		signIn := func(user, ip string) *testkit.Flow {
			t.Helper()
			s.Clock.Advance(time.Second)
			return app.Start(fromIP(s.NewBrowser(t), ip), nil).Password(user, user+"-password")
		}

		before, _ := scrapeMetrics(t, s)
		if v, ok := before[`twofold_send_blocked_total{channel="sms",reason="resend"}`]; !ok || v != 0 {
			t.Fatalf("before any send, the resend series is %v (present %v), want 0", v, ok)
		}

		f := signIn("alice", "192.0.2.1") // 1 text and 3 resends from one IP, then the per-sign-in cap
		requestID := f.Page.Field("authRequestID")
		for range 4 {
			s.Clock.Advance(31 * time.Second)
			f.PostCodeForm("/login/code/resend", nil)
		}
		if f.Page.Status != http.StatusTooManyRequests {
			t.Fatalf("a fourth resend: %s", f.Page)
		}
		signIn("alice", "192.0.2.2")          // alice's 5th text in 10 minutes
		signIn("alice", "192.0.2.3")          // the 6th: destination limit, email instead
		p := signIn("dave", "192.0.2.1").Page // a 5th and 6th send from 192.0.2.1: the IP limit, for text and email
		signIn("brit", "192.0.2.4")           // GB with a US sender: country, email instead
		bob := signIn("bob", "192.0.2.5")     // the 6th text of the hour
		signIn("carol", "192.0.2.6")          // the 7th: budget, email instead
		if p.Status != http.StatusTooManyRequests || len(tw.Messages()) != 6 {
			t.Fatalf("dave's sign-in: %s; %d texts, want 6", p, len(tw.Messages()))
		}
		bob.SubmitCode(wrongCode(tw.LastCode(users["bob"])))
		app.Start(fromIP(s.NewBrowser(t), "192.0.2.7"), nil).Password("alice", "not-alices-password")
		tw.Fail(http.StatusInternalServerError)
		signIn("erin", "192.0.2.8") // the call fails at Twilio: email instead
		tw.Reset()

		got, body := scrapeMetrics(t, s)
		want := map[string]float64{
			`twofold_send_blocked_total{channel="sms",reason="resend"}`:        1,
			`twofold_send_blocked_total{channel="sms",reason="destination"}`:   1,
			`twofold_send_blocked_total{channel="sms",reason="ip"}`:            1,
			`twofold_send_blocked_total{channel="email",reason="ip"}`:          1,
			`twofold_send_blocked_total{channel="sms",reason="country"}`:       1,
			`twofold_send_blocked_total{channel="sms",reason="budget"}`:        1,
			`twofold_send_blocked_total{channel="email",reason="destination"}`: 0,
			`twofold_sends_total{channel="sms",outcome="sent"}`:                6,
			`twofold_sends_total{channel="email",outcome="fallback"}`:          4,
			`twofold_sends_total{channel="email",outcome="sent"}`:              0,
			`twofold_sends_total{channel="voice",outcome="failed"}`:            1,
			`twofold_login_failures_total{factor="sms"}`:                       1,
			`twofold_login_failures_total{factor="password"}`:                  1,
		}
		for series, v := range want {
			if got[series] != v {
				t.Errorf("%s = %v, want %v", series, got[series], v)
			}
		}
		var blocked float64
		for series, v := range got {
			if strings.HasPrefix(series, "twofold_send_blocked_total{") {
				blocked += v
			}
		}
		if audited := len(auditDetails(t, s, "code_send_refused")); blocked != float64(audited) {
			t.Errorf("twofold_send_blocked_total adds up to %v, but %d sends were refused in the audit", blocked, audited)
		}
		if got[`twofold_http_requests_total{code="429",route_class="login"}`] < 2 {
			t.Errorf("the refused pages were not counted as 429s of the login pages")
		}
		if got["process_resident_memory_bytes"] <= 0 || got["go_goroutines"] <= 0 {
			t.Errorf("no process or runtime figures: rss %v, goroutines %v", got["process_resident_memory_bytes"], got["go_goroutines"])
		}
		for _, secret := range []string{"alice", "brit", "example.com", "+1415", "4155550", "+44", "7400123456", "192.0.2.", "127.0.0.1", requestID} {
			if secret != "" && strings.Contains(body, secret) {
				t.Errorf("/metrics contains %q", secret)
			}
		}
		noServerErrors(t, s)
	})
}
