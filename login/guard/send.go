package guard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twofold-id/twofold/login/contact"
)

// Fixed windows of the send limits.
const (
	tenMinutes = 10 * time.Minute
	hour       = time.Hour
	day        = 24 * time.Hour
)

// Limit names the limit that refused a send.
type Limit string

// The limits AllowSend enforces, narrowest first.
const (
	// LimitCountry: SMS and voice go only to the allow-listed regions.
	LimitCountry Limit = "country"
	// LimitDestination: this phone number or address had its sends for
	// now; another method (another destination) may still work.
	LimitDestination Limit = "destination"
	// LimitIP: the client asked for too many sends; answer 429.
	LimitIP Limit = "ip"
	// LimitBudget: a per-country daily or global hourly budget of the
	// channel is spent (a circuit breaker against SMS pumping); another
	// channel may still work.
	LimitBudget Limit = "budget"
)

// ErrRefused matches every *RefusedError with errors.Is.
var ErrRefused = errors.New("send refused by an abuse limit")

// RefusedError says which limit refused a send. Its text holds no contact
// data, so it can go into logs and audit details as is.
type RefusedError struct {
	Limit      Limit
	Channel    string
	Region     string        // region of the phone number ("" for email or unknown)
	RetryAfter time.Duration // until the window of the limit ends (0 for LimitCountry), in whole seconds
}

// Error names the limit, the channel and the region, never the destination.
func (e *RefusedError) Error() string {
	s := fmt.Sprintf("send refused: %s limit (channel %s", e.Limit, e.Channel)
	if e.Region != "" {
		s += ", region " + e.Region
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	return s + ")"
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Detail is the refusal as an audit detail ("limit=budget channel=sms region=GB").
func (e *RefusedError) Detail() string {
	return fmt.Sprintf("limit=%s channel=%s region=%s", e.Limit, e.Channel, e.Region)
}

// step is one counter a send must pass.
type step struct {
	key    string
	window time.Duration
	max    int
	limit  Limit
}

// AllowSend counts a send of a code on channel ("sms", "voice" or "email")
// to destination (E.164 phone number or email address) asked for by the
// client ip, or refuses it with a *RefusedError naming the limit. Call it
// once before every delivery attempt, fallbacks included; audit every
// refusal.
//
// Counters are taken narrowest first (destination, IP, then the channel's
// budgets), each with one atomic increment, and a refusal gives back the
// counts it took, so that a flood against one number never spends the
// budgets and every counter counts sends made. Under parallel calls a limit
// of n lets exactly n through, or fewer while a refused call gives back.
func (g *Guard) AllowSend(ctx context.Context, channel, destination, ip string) error {
	dest := strings.ToLower(strings.TrimSpace(destination))
	if dest == "" {
		return errors.New("guard: empty destination")
	}
	region := ""
	switch channel {
	case "sms", "voice":
		region = contact.PhoneRegion(dest)
		if !g.regionAllowed(region) {
			return &RefusedError{Limit: LimitCountry, Channel: channel, Region: region}
		}
	case "email":
	default:
		return fmt.Errorf("guard: unknown channel %q", channel)
	}
	d := g.hash("destination", dest)
	steps := []step{
		{"send:dest:10m:" + d, tenMinutes, g.l.DestinationPer10m, LimitDestination},
		{"send:dest:day:" + d, day, g.l.DestinationPerDay, LimitDestination},
	}
	if k := ClientKey(ip); k != "" {
		steps = append(steps, step{"send:ip:10m:" + g.hash("ip", k), tenMinutes, g.l.IPSendsPer10m, LimitIP})
	}
	switch channel {
	case "sms":
		steps = append(steps,
			step{"budget:sms:day:" + region, day, g.l.SMSCountryDaily, LimitBudget},
			step{"budget:sms:hour", hour, g.l.SMSGlobalHourly, LimitBudget})
	case "voice":
		steps = append(steps,
			step{"budget:voice:day:" + region, day, g.l.VoiceCountryDaily, LimitBudget},
			step{"budget:voice:hour", hour, g.l.VoiceGlobalHourly, LimitBudget})
	}
	return g.take(ctx, steps, channel, region)
}

// take hits each step's counter in order, giving back the hits already
// taken when one refuses or fails.
func (g *Guard) take(ctx context.Context, steps []step, channel, region string) error {
	now := g.now()
	taken := make([]takenHit, 0, len(steps))
	for _, s := range steps {
		h, err := g.store.HitCounter(ctx, s.key, s.window, now)
		if err == nil && h.Count <= int64(s.max) {
			taken = append(taken, takenHit{s.key, h.WindowStart})
			continue
		}
		// The hit that refused stays counted: its window ends on time
		// whatever happens, and attempts past a limit are worth seeing.
		g.giveBack(ctx, taken)
		if err != nil {
			return err
		}
		return &RefusedError{Limit: s.limit, Channel: channel, Region: region,
			RetryAfter: max(roundUp(h.WindowStart.Add(s.window).Sub(now)), time.Second)}
	}
	return nil
}

type takenHit struct {
	key         string
	windowStart time.Time
}

// giveBack undoes hits; best effort, also when ctx is cancelled, since a
// hit left behind only makes a limit stricter until its window ends.
func (g *Guard) giveBack(ctx context.Context, taken []takenHit) {
	ctx = context.WithoutCancel(ctx)
	for _, t := range taken {
		_ = g.store.UndoHit(ctx, t.key, t.windowStart)
	}
}

func (g *Guard) regionAllowed(region string) bool {
	if region == "" {
		return false // invalid or non-geographic (+800, +881…): never on an allow-list
	}
	return slices.Contains(g.l.SMSCountries, "*") || slices.Contains(g.l.SMSCountries, region)
}
