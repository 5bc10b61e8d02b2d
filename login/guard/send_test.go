package guard_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/login/guard"
)

func TestAllowSendPerDestination(t *testing.T) {
	g, clk, _ := newGuard(t, testLimits())
	ctx := t.Context()
	const phone = "+14155550100"
	for i := 1; i <= 5; i++ {
		must(t, fmt.Sprintf("send %d", i), g.AllowSend(ctx, "sms", phone, fmt.Sprintf("192.0.2.%d", i)))
		clk.Advance(time.Minute)
	}
	re := refusal(t, g.AllowSend(ctx, "voice", phone, "192.0.2.99")) // a call to the same number counts too
	if re.Limit != guard.LimitDestination || re.Channel != "voice" || re.Region != "US" || re.RetryAfter != 5*time.Minute {
		t.Errorf("6th send in 10 minutes: %+v, want destination, retry after 5m", re)
	}
	if strings.Contains(re.Error(), "5550100") || strings.Contains(re.Detail(), "5550100") {
		t.Errorf("refusal shows the number: %q / %q", re.Error(), re.Detail())
	}
	must(t, "email to another destination", g.AllowSend(ctx, "email", "alice@example.com", "192.0.2.99"))

	// The window ends: five more, then the daily cap of 10.
	clk.Advance(5 * time.Minute)
	for i := 1; i <= 5; i++ {
		must(t, fmt.Sprintf("send %d of the next window", i), g.AllowSend(ctx, "sms", phone, "192.0.2.50"))
	}
	clk.Advance(10 * time.Minute)
	re = refusal(t, g.AllowSend(ctx, "sms", phone, "192.0.2.50"))
	if re.Limit != guard.LimitDestination || re.RetryAfter != 24*time.Hour-20*time.Minute {
		t.Errorf("11th send of the day: %+v, want destination until the day's window ends", re)
	}
	clk.Advance(re.RetryAfter)
	must(t, "send the next day", g.AllowSend(ctx, "sms", phone, "192.0.2.50"))

	// Email addresses count case-insensitively.
	for range 5 {
		must(t, "email", g.AllowSend(ctx, "email", "Bob@Example.com", ""))
	}
	if re := refusal(t, g.AllowSend(ctx, "email", "bob@example.COM", "")); re.Limit != guard.LimitDestination || re.Region != "" {
		t.Errorf("6th email: %+v", re)
	}
}

func TestAllowSendPerIP(t *testing.T) {
	g, clk, s := newGuard(t, testLimits())
	ctx := t.Context()
	for i := range 20 {
		must(t, "send", g.AllowSend(ctx, "email", fmt.Sprintf("user%d@example.com", i), "2001:db8:5:6::1"))
	}
	clk.Advance(time.Minute)
	re := refusal(t, g.AllowSend(ctx, "email", "another@example.com", "2001:db8:5:6:ffff::2")) // the same /64
	if re.Limit != guard.LimitIP || re.RetryAfter != 9*time.Minute {
		t.Errorf("21st send from one /64: %+v, want ip, retry after 9m", re)
	}
	// The refused send gave its destination count back: a limit of 1 still
	// lets one through.
	l := testLimits()
	l.DestinationPer10m = 1
	fresh := guard.New(s, l, []byte("test key"), clk.Now)
	must(t, "from another IP", fresh.AllowSend(ctx, "email", "another@example.com", "2001:db8:5:7::1"))
}

func TestAllowSendCountries(t *testing.T) {
	tests := []struct {
		allow   []string
		channel string
		to      string
		refused bool
		region  string
	}{
		{[]string{"US"}, "sms", "+14155550100", false, "US"},
		{[]string{"US"}, "voice", "+14155550100", false, "US"},
		{[]string{"US"}, "sms", "+442079460000", true, "GB"},
		{[]string{"US"}, "sms", "+16135550100", true, "CA"}, // +1 is not one country
		{[]string{"US", "GB"}, "voice", "+442079460000", false, "GB"},
		{[]string{"*"}, "sms", "+33612345678", false, "FR"},
		{[]string{"*"}, "sms", "+80012345678", true, ""}, // non-geographic: never
		{[]string{"*"}, "sms", "not a number", true, ""},
		{nil, "sms", "+14155550100", true, "US"}, // empty list: nothing
		{nil, "email", "alice@example.com", false, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v %s %s", tt.allow, tt.channel, tt.to), func(t *testing.T) {
			l := testLimits()
			l.SMSCountries = tt.allow
			g, _, _ := newGuard(t, l)
			err := g.AllowSend(t.Context(), tt.channel, tt.to, "192.0.2.1")
			if !tt.refused {
				must(t, "AllowSend", err)
				return
			}
			if re := refusal(t, err); re.Limit != guard.LimitCountry || re.Region != tt.region || re.RetryAfter != 0 {
				t.Errorf("refusal %+v, want country, region %q", re, tt.region)
			}
		})
	}
}

func TestAllowSendBudgets(t *testing.T) {
	l := testLimits()
	l.SMSCountries = []string{"US", "GB"}
	l.SMSCountryDaily, l.SMSGlobalHourly = 3, 5
	l.VoiceCountryDaily, l.VoiceGlobalHourly = 1, 2
	g, clk, s := newGuard(t, l)
	ctx := t.Context()
	us := func(i int) string { return fmt.Sprintf("+1415555%04d", i) }
	gb := func(i int) string { return fmt.Sprintf("+44207946%04d", i) }
	for i := range 3 {
		must(t, "sms to the US", g.AllowSend(ctx, "sms", us(i), fmt.Sprintf("192.0.2.%d", i)))
	}
	re := refusal(t, g.AllowSend(ctx, "sms", us(3), "192.0.2.3"))
	if re.Limit != guard.LimitBudget || re.Region != "US" || re.RetryAfter != 24*time.Hour {
		t.Errorf("4th SMS to the US today: %+v, want the country budget", re)
	}
	must(t, "voice to the US (its own budget)", g.AllowSend(ctx, "voice", us(5), "192.0.2.3"))
	if re := refusal(t, g.AllowSend(ctx, "voice", us(4), "192.0.2.4")); re.Limit != guard.LimitBudget {
		t.Errorf("2nd call to the US: %+v, want the voice budget (tighter)", re)
	}
	must(t, "sms to GB", g.AllowSend(ctx, "sms", gb(0), "192.0.2.5"))
	must(t, "sms to GB", g.AllowSend(ctx, "sms", gb(1), "192.0.2.6"))
	clk.Advance(time.Minute)
	re = refusal(t, g.AllowSend(ctx, "sms", gb(2), "192.0.2.7"))
	if re.Limit != guard.LimitBudget || re.RetryAfter != 59*time.Minute {
		t.Errorf("6th SMS this hour: %+v, want the global budget, retry after 59m", re)
	}
	must(t, "email is not budgeted", g.AllowSend(ctx, "email", "a@example.com", "192.0.2.7"))

	// Refusals by a budget gave back what they took: the refused numbers
	// have no send counted, so one more to each passes a limit of 1 once
	// a fresh budget allows it.
	l.DestinationPer10m = 1
	l.SMSCountryDaily, l.SMSGlobalHourly = 100, 100
	fresh := guard.New(s, l, []byte("test key"), clk.Now)
	must(t, "the number refused by the country budget", fresh.AllowSend(ctx, "sms", us(3), "198.51.100.1"))
	must(t, "the number refused by the global budget", fresh.AllowSend(ctx, "sms", gb(2), "198.51.100.1"))
	if re := refusal(t, fresh.AllowSend(ctx, "sms", us(0), "198.51.100.1")); re.Limit != guard.LimitDestination {
		t.Errorf("a number that was sent to: %+v, want destination (its send counted)", re)
	}
}

// TestParallelAllowSend: 50 parallel sends to one number let exactly 5
// through, and the refusals spend nothing of the budgets.
func TestParallelAllowSend(t *testing.T) {
	l := testLimits()
	l.SMSCountryDaily = 5
	g, _, _ := newGuard(t, l)
	ctx := t.Context()
	errs := parallel(50, func(i int) error {
		return g.AllowSend(ctx, "sms", "+14155550100", fmt.Sprintf("192.0.2.%d", i))
	})
	sent := 0
	for _, err := range errs {
		if err == nil {
			sent++
		} else if re := refusal(t, err); re.Limit != guard.LimitDestination {
			t.Errorf("refusal %+v, want destination", re)
		}
	}
	if sent != 5 {
		t.Errorf("%d of 50 parallel sends went through, want 5", sent)
	}
	if err := g.AllowSend(ctx, "sms", "+14155550101", "192.0.2.1"); err == nil {
		t.Error("the country budget of 5 allowed a 6th SMS")
	}
}

func TestAllowSendRejectsBadInput(t *testing.T) {
	g, _, _ := newGuard(t, testLimits())
	ctx := t.Context()
	for _, c := range []struct{ channel, to string }{{"fax", "+14155550100"}, {"sms", ""}, {"email", "  "}} {
		err := g.AllowSend(ctx, c.channel, c.to, "192.0.2.1")
		if err == nil || errors.Is(err, guard.ErrRefused) {
			t.Errorf("AllowSend(%q, %q) = %v, want a plain error", c.channel, c.to, err)
		}
	}
}

// TestNoContactDataInTheDatabase: counter keys hold keyed hashes, never a
// phone number, an email address or an IP.
func TestNoContactDataInTheDatabase(t *testing.T) {
	s, path := openStore(t)
	g := guard.New(s, testLimits(), []byte("test key"), newClock().Now)
	ctx := t.Context()
	secrets := []string{"+14155550123", "carol@example.org", "203.0.113.77", "2001:db8:77"}
	must(t, "AllowSend", g.AllowSend(ctx, "sms", secrets[0], secrets[2]))
	must(t, "AllowSend", g.AllowSend(ctx, "email", secrets[1], "2001:db8:77::1"))
	_, err := g.Failure(ctx, "u1", secrets[2])
	must(t, "Failure", err)
	for _, file := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(file)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, secret := range append(secrets, "4155550123", "carol") {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds %q in clear", file, secret)
			}
		}
	}
}
