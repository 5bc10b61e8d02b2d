package sender

import (
	"context"
	"errors"
)

// ErrUndeliverable means that no channel of any option delivered the code
// and no limit refused it for now: the user cannot be reached at all.
var ErrUndeliverable = errors.New("sender: no channel could deliver the code")

// Option is one of the user's ways to get a code, in the order they are
// tried: a code method's own channel and the destination proven when the
// method was set, or a method that needs no delivery (an authenticator
// app, Channel "").
type Option struct {
	Method  string // the method's name, reported back ("sms", "totp")
	Channel Channel
	To      string
}

// Contact is where a channel reaches the user when it serves as another
// channel's fallback, and whether the user (at enrolment) or an admin
// vouched for that number or address.
type Contact struct {
	To       string
	Verified bool
}

// Plan says how a code may reach a user: the options in order, the
// channels tried when an option's own channel fails, and where those
// reach the user.
type Plan struct {
	Options  []Option
	Fallback map[Channel][]Channel
	Contacts map[Channel]Contact
}

// Limits counts a send before it goes out, or refuses it with a *Refused;
// any other error (the database away) ends the delivery.
type Limits interface {
	AllowSend(ctx context.Context, channel Channel, to string) error
}

// Refused is a send that a limit refused: the chain goes on with the next
// channel. Lasting marks a refusal that waiting does not lift (a country
// outside the allow-list), which Deliver never reports as the reason no
// code went out: the user can do nothing about it but use another way.
type Refused struct {
	Err     error
	Lasting bool
}

func (r *Refused) Error() string { return r.Err.Error() }
func (r *Refused) Unwrap() error { return r.Err }

// Outcome is what became of one channel of a delivery.
type Outcome string

// The outcomes, one per channel looked at.
const (
	// Sent: the provider took the message.
	Sent Outcome = "sent"
	// Failed: the provider refused it or did not answer in time.
	Failed Outcome = "failed"
	// RefusedByLimit: a limit refused the send (Err is the *Refused).
	RefusedByLimit Outcome = "refused"
	// Unverified: nobody vouched for the fallback's destination, so a
	// code there could sign in whoever owns it.
	Unverified Outcome = "unverified"
	// Unavailable: the user has no destination on the channel, or no
	// sender is configured for it.
	Unavailable Outcome = "unavailable"
	// Exhausted ends an option whose every channel failed (Channel "";
	// Err is its last refusal for now, if any).
	Exhausted Outcome = "exhausted"
)

// Attempt is one step of a delivery, in order, for the caller to audit
// and count.
type Attempt struct {
	Method     string  // the option being tried
	Channel    Channel // the channel looked at ("" for Exhausted)
	Fallback   bool    // Channel is a fallback of the option's own channel
	Outcome    Outcome
	Err        error  // Failed, RefusedByLimit, Exhausted
	ProviderID string // Sent
}

// Delivery is what Deliver did: the option that holds the code, the
// channel and destination that delivered it (none for an option that
// needs no delivery), and every attempt on the way.
type Delivery struct {
	Method     string
	Channel    Channel
	To         string
	ProviderID string
	// FallbackFrom names the method whose channel failed when the code
	// came another way: the option itself when one of its fallbacks
	// delivered, else the first option that could not deliver.
	FallbackFrom string
	Attempts     []Attempt
}

// Chain delivers a code along a Plan with the configured senders.
type Chain struct {
	senders map[Channel]Sender
}

// NewChain returns a chain over the senders of each channel; a channel
// without a sender is skipped.
func NewChain(senders map[Channel]Sender) *Chain {
	return &Chain{senders: senders}
}

// Deliver sends m along the plan: each option's own channel, then its
// fallbacks (only to a verified destination), each send counted by limits
// first (nil: no limits); an option whose every channel fails gives way to
// the next one. It stops at the first channel that delivers, or at an
// option that needs no delivery.
//
// When nothing delivers, the error is the last option's refusal for now
// (a *Refused, so that the user is told to wait), or ErrUndeliverable. The
// Delivery lists the attempts whatever the error.
func (c *Chain) Deliver(ctx context.Context, p Plan, limits Limits, m Message) (Delivery, error) {
	var d Delivery
	failedFirst := "" // the first option that could not deliver
	err := ErrUndeliverable
	for _, o := range p.Options {
		if o.Channel == "" { // nothing to send: the user types the code from elsewhere
			d.Method, d.FallbackFrom = o.Method, failedFirst
			return d, nil
		}
		sent, refused, fatal := c.try(ctx, p, o, limits, m, &d)
		switch {
		case fatal != nil:
			return d, fatal
		case sent:
			if d.FallbackFrom == "" { // delivered on the option's own channel
				d.FallbackFrom = failedFirst
			}
			return d, nil
		}
		d.Attempts = append(d.Attempts, Attempt{Method: o.Method, Outcome: Exhausted, Err: refused})
		if failedFirst == "" {
			failedFirst = o.Method
		}
		err = ErrUndeliverable
		if refused != nil {
			err = refused
		}
	}
	return d, err
}

// try sends m on option o's own channel and then its fallbacks. It
// reports whether one delivered (filling d), the last refusal for now,
// and an error that ends the whole delivery.
func (c *Chain) try(ctx context.Context, p Plan, o Option, limits Limits, m Message, d *Delivery) (sent bool, refused, fatal error) {
	for _, ch := range append([]Channel{o.Channel}, p.Fallback[o.Channel]...) {
		a := Attempt{Method: o.Method, Channel: ch, Fallback: ch != o.Channel}
		to, verified := o.To, true // an option's own destination was proven when it was set
		if a.Fallback {
			to, verified = p.Contacts[ch].To, p.Contacts[ch].Verified
		}
		snd := c.senders[ch]
		switch {
		case to == "" || snd == nil:
			a.Outcome = Unavailable
		case !verified:
			a.Outcome = Unverified
		default:
			if err := c.send(ctx, snd, limits, m, &a, to); err != nil {
				return false, nil, err
			}
		}
		d.Attempts = append(d.Attempts, a)
		switch a.Outcome {
		case Sent:
			d.Method, d.Channel, d.To, d.ProviderID = o.Method, ch, to, a.ProviderID
			if a.Fallback {
				d.FallbackFrom = o.Method
			}
			return true, refused, nil
		case RefusedByLimit:
			if r := (*Refused)(nil); errors.As(a.Err, &r) && !r.Lasting {
				refused = a.Err
			}
		}
	}
	return false, refused, nil
}

// send asks the limits and then the sender, and records the outcome in a.
// Its error says that the limits could not be asked at all.
func (c *Chain) send(ctx context.Context, snd Sender, limits Limits, m Message, a *Attempt, to string) error {
	if limits != nil {
		if err := limits.AllowSend(ctx, a.Channel, to); err != nil {
			if r := (*Refused)(nil); !errors.As(err, &r) {
				return err
			}
			a.Outcome, a.Err = RefusedByLimit, err
			return nil
		}
	}
	m.Channel, m.To = a.Channel, to
	id, err := snd.Send(ctx, m)
	if err != nil {
		a.Outcome, a.Err = Failed, err
		return nil
	}
	a.Outcome, a.ProviderID = Sent, id
	return nil
}
