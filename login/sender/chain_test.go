package sender_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/login/sender"
)

// provider is the outside world of a channel: it takes a message or
// fails, and keeps what it took.
type provider struct {
	channel sender.Channel
	fail    bool
	got     *[]string
}

func (p provider) Send(_ context.Context, m sender.Message) (string, error) {
	if m.Channel != p.channel {
		return "", fmt.Errorf("message for %s sent on %s", m.Channel, p.channel)
	}
	if p.fail {
		return "", errors.New("provider answered 503")
	}
	*p.got = append(*p.got, string(m.Channel)+":"+m.To+":"+m.Code)
	return "id-" + string(m.Channel), nil
}

// limitsFunc lets a table say what the limits answer.
type limitsFunc func(ch sender.Channel, to string) error

func (f limitsFunc) AllowSend(_ context.Context, ch sender.Channel, to string) error {
	return f(ch, to)
}

var (
	errBusy       = errors.New("database away")
	forNow        = &sender.Refused{Err: errors.New("destination limit")}
	lasting       = &sender.Refused{Err: errors.New("country not allowed"), Lasting: true}
	sms           = sender.Option{Method: "sms", Channel: sender.SMS, To: "+14155550123"}
	voice         = sender.Option{Method: "voice", Channel: sender.Voice, To: "+14155550123"}
	email         = sender.Option{Method: "email", Channel: sender.Email, To: "alice@example.com"}
	totp          = sender.Option{Method: "totp"}
	verifiedEmail = map[sender.Channel]sender.Contact{sender.Email: {To: "alice@example.com", Verified: true}}
	otherEmail    = map[sender.Channel]sender.Contact{sender.Email: {To: "alice@example.net"}}
	toEmail       = map[sender.Channel][]sender.Channel{sender.SMS: {sender.Email}, sender.Voice: {sender.Email}}
)

func TestChainDeliver(t *testing.T) {
	for _, tc := range []struct {
		name     string
		options  []sender.Option
		contacts map[sender.Channel]sender.Contact
		fallback map[sender.Channel][]sender.Channel
		failing  []sender.Channel
		limits   limitsFunc
		// what came of it: "method channel fallbackFrom", or the error
		want     string
		wantErr  error
		sent     []string
		attempts string // channel:outcome, in order
	}{
		{name: "SMS goes out on its own channel", options: []sender.Option{sms}, contacts: verifiedEmail, fallback: toEmail,
			want: "sms sms -", sent: []string{"sms:+14155550123:402718"}, attempts: "sms:sent"},
		{name: "SMS fails, the verified email takes it", options: []sender.Option{sms}, contacts: verifiedEmail, fallback: toEmail,
			failing: []sender.Channel{sender.SMS},
			want:    "sms email sms", sent: []string{"email:alice@example.com:402718"}, attempts: "sms:failed email:sent"},
		{name: "an unverified email is skipped for the next verified method", options: []sender.Option{sms, voice}, contacts: otherEmail, fallback: toEmail,
			failing: []sender.Channel{sender.SMS},
			want:    "voice voice sms", sent: []string{"voice:+14155550123:402718"},
			attempts: "sms:failed email:unverified :exhausted voice:sent"},
		{name: "nothing goes out: the authenticator app is next", options: []sender.Option{sms, totp}, contacts: otherEmail, fallback: toEmail,
			failing: []sender.Channel{sender.SMS},
			want:    "totp - sms", attempts: "sms:failed email:unverified :exhausted"},
		{name: "an authenticator app first sends nothing", options: []sender.Option{totp, sms}, contacts: verifiedEmail, fallback: toEmail,
			want: "totp - -"},
		{name: "a country refused goes to the next channel", options: []sender.Option{sms}, contacts: verifiedEmail, fallback: toEmail,
			limits: func(ch sender.Channel, _ string) error {
				if ch == sender.SMS {
					return lasting
				}
				return nil
			},
			want: "sms email sms", sent: []string{"email:alice@example.com:402718"}, attempts: "sms:refused email:sent"},
		{name: "without the fallback configured the next method", options: []sender.Option{sms, email}, contacts: verifiedEmail,
			failing: []sender.Channel{sender.SMS},
			want:    "email email sms", sent: []string{"email:alice@example.com:402718"}, attempts: "sms:failed :exhausted email:sent"},
		{name: "a method with no sender is unavailable", options: []sender.Option{{Method: "voice", Channel: "fax", To: "+1"}, email},
			want: "email email voice", sent: []string{"email:alice@example.com:402718"}, attempts: "fax:unavailable :exhausted email:sent"},
		{name: "all fail: no other way", options: []sender.Option{sms, email}, contacts: verifiedEmail, fallback: toEmail,
			failing: []sender.Channel{sender.SMS, sender.Email},
			wantErr: sender.ErrUndeliverable, attempts: "sms:failed email:failed :exhausted email:failed :exhausted"},
		{name: "refused for now: the user is told to wait", options: []sender.Option{sms}, contacts: verifiedEmail, fallback: toEmail,
			failing: []sender.Channel{sender.Email},
			limits: func(ch sender.Channel, _ string) error {
				if ch == sender.SMS {
					return forNow
				}
				return nil
			},
			wantErr: forNow, attempts: "sms:refused email:failed :exhausted"},
		{name: "only refused by a country: no other way", options: []sender.Option{sms}, contacts: otherEmail, fallback: toEmail,
			limits:  func(sender.Channel, string) error { return lasting },
			wantErr: sender.ErrUndeliverable, attempts: "sms:refused email:unverified :exhausted"},
		{name: "the last method's failure is the answer", options: []sender.Option{sms, email}, contacts: otherEmail,
			failing: []sender.Channel{sender.Email},
			limits: func(ch sender.Channel, _ string) error {
				if ch == sender.SMS {
					return forNow
				}
				return nil
			},
			wantErr: sender.ErrUndeliverable, attempts: "sms:refused :exhausted email:failed :exhausted"},
		{name: "limits that cannot be asked end the delivery", options: []sender.Option{sms, email}, contacts: verifiedEmail, fallback: toEmail,
			limits:  func(sender.Channel, string) error { return errBusy },
			wantErr: errBusy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent []string
			senders := map[sender.Channel]sender.Sender{}
			for _, ch := range []sender.Channel{sender.SMS, sender.Voice, sender.Email} {
				senders[ch] = provider{channel: ch, fail: slices.Contains(tc.failing, ch), got: &sent}
			}
			var limits sender.Limits
			if tc.limits != nil {
				limits = tc.limits
			}
			plan := sender.Plan{Options: tc.options, Fallback: tc.fallback, Contacts: tc.contacts}
			m := sender.Message{Code: code, TTL: 5 * time.Minute, Purpose: sender.PurposeSignIn}
			d, err := sender.NewChain(senders).Deliver(context.Background(), plan, limits, m)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Deliver = %+v, %v; want %v", d, err, tc.wantErr)
				}
			} else if got := fmt.Sprintf("%s %s %s", d.Method, dash(string(d.Channel)), dash(d.FallbackFrom)); err != nil || got != tc.want {
				t.Fatalf("Deliver = %q, %v; want %q", got, err, tc.want)
			}
			if !slices.Equal(sent, tc.sent) {
				t.Errorf("sent %q, want %q", sent, tc.sent)
			}
			var attempts []string
			for _, a := range d.Attempts {
				attempts = append(attempts, string(a.Channel)+":"+string(a.Outcome))
			}
			if got := strings.Join(attempts, " "); got != tc.attempts {
				t.Errorf("attempts %q, want %q", got, tc.attempts)
			}
		})
	}
}

// A fallback is marked, and a delivery names the provider's message id
// and the destination it went to.
func TestChainReportsTheDelivery(t *testing.T) {
	var sent []string
	senders := map[sender.Channel]sender.Sender{
		sender.SMS: provider{channel: sender.SMS, fail: true, got: &sent}, sender.Email: provider{channel: sender.Email, got: &sent},
	}
	plan := sender.Plan{Options: []sender.Option{sms}, Fallback: toEmail, Contacts: verifiedEmail}
	d, err := sender.NewChain(senders).Deliver(context.Background(), plan, nil, sender.Message{Code: code})
	if err != nil {
		t.Fatal(err)
	}
	if d.To != "alice@example.com" || d.ProviderID != "id-email" || len(d.Attempts) != 2 ||
		d.Attempts[0].Fallback || d.Attempts[0].Err == nil || !d.Attempts[1].Fallback || d.Attempts[1].ProviderID != "id-email" {
		t.Fatalf("delivery = %+v", d)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
