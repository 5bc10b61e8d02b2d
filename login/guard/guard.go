// Package guard holds twofold's abuse limits: backoff and lockout of
// accounts (and of typed usernames that no account has) after consecutive
// failures, a per-IP failure limit answered with 429, and the caps on
// sending codes (per destination, per IP, per country, and budgets that act
// as circuit breakers against SMS pumping).
//
// Every count lives in the database and changes with one statement (an
// UPSERT or a conditional UPDATE), so stateless replicas sharing one
// database enforce the limits exactly, whatever the concurrency. Windows are
// fixed: a window starts at the first hit of its key and lasts its length,
// so a burst across a window's end can reach twice a limit, never more.
// Counter keys never hold contact data or addresses in clear: destinations
// and IPs enter them as keyed hashes.
package guard

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/storage"
)

// Store is what the guard needs from storage.
type Store interface {
	HitCounter(ctx context.Context, key string, window time.Duration, now time.Time) (storage.CounterHit, error)
	Counter(ctx context.Context, key string, window time.Duration, now time.Time) (storage.CounterHit, error)
	UndoHit(ctx context.Context, key string, windowStart time.Time) error
	PurgeCounters(ctx context.Context, before time.Time, batch int) (int64, error)
	AccountFailure(ctx context.Context, userID string, lockAt int, now time.Time) (int, *time.Time, error)
	AccountGuard(ctx context.Context, userID string) (*storage.AccountGuard, error)
	ClaimAccountAttempt(ctx context.Context, userID string, failures int, slotOpen, leaseStart, now time.Time) error
	ReleaseAccountAttempt(ctx context.Context, userID string) error
	ResetAccountGuard(ctx context.Context, userID string) error
	UnlockAccount(ctx context.Context, userID string) error
}

// KeyPurpose names the key that hashes destinations and IPs into counter
// keys: pass keyring.Derive(guard.KeyPurpose) to New.
const KeyPurpose = "twofold abuse counter key v1"

// Limits are the numbers the guard enforces; config.Limits documents each.
type Limits struct {
	BackoffAfter            int           // consecutive failures before the first wait
	BackoffBase, BackoffMax time.Duration // first wait, doubling per failure up to the cap
	LockAfter               int           // consecutive failures that lock the account

	IPFailures int           // failures per IP (IPv6 per /64) per IPWindow before 429
	IPWindow   time.Duration // also the longest Retry-After of an IP block

	DestinationPer10m, DestinationPerDay int // sends per phone number or email address
	IPSendsPer10m                        int // sends asked for by one IP (IPv6 per /64)

	// SMSCountries are the ISO 3166 regions SMS and voice may go to; "*"
	// allows any region. Empty allows none: FromConfig fills in the region
	// of the sender number when the configuration leaves it empty.
	SMSCountries []string

	SMSCountryDaily, SMSGlobalHourly     int // SMS budgets: per region per day, all regions per hour
	VoiceCountryDaily, VoiceGlobalHourly int // the same for voice calls
}

// FromConfig returns the limits of the configuration. senderRegion is the
// region of twilio.from (contact.PhoneRegion); it is the allow-list when
// limits.sms_countries is empty.
func FromConfig(c config.Limits, senderRegion string) Limits {
	l := Limits{
		BackoffAfter: c.BackoffAfter, BackoffBase: c.BackoffBase.D(), BackoffMax: c.BackoffMax.D(),
		LockAfter: c.LockAfter, IPFailures: c.IPFailures, IPWindow: c.IPWindow.D(),
		DestinationPer10m: c.DestinationPer10m, DestinationPerDay: c.DestinationPerDay, IPSendsPer10m: c.IPSendsPer10m,
		SMSCountryDaily: c.SMSCountryDaily, SMSGlobalHourly: c.SMSGlobalHourly,
		VoiceCountryDaily: c.VoiceCountryDaily, VoiceGlobalHourly: c.VoiceGlobalHourly,
	}
	for _, r := range c.SMSCountries {
		l.SMSCountries = append(l.SMSCountries, strings.ToUpper(strings.TrimSpace(r)))
	}
	if len(l.SMSCountries) == 0 && senderRegion != "" {
		l.SMSCountries = []string{strings.ToUpper(senderRegion)}
	}
	return l
}

// Guard enforces Limits over a Store.
type Guard struct {
	store Store
	l     Limits
	key   []byte
	now   func() time.Time
}

// New returns a guard. key hashes destinations and IPs into counter keys
// (keyring.Derive(KeyPurpose)); now is the clock (time.Now when nil).
func New(store Store, l Limits, key []byte, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{store: store, l: l, key: key, now: now}
}

// Purge deletes counters whose windows have all passed at now; the jobs
// call it periodically on every replica. Account failures are never purged:
// only a success or an admin clears them.
func (g *Guard) Purge(ctx context.Context, now time.Time) (int64, error) {
	const batch = 1000
	before := now.Add(-max(day, g.l.IPWindow))
	var total int64
	for range 100 { // at most 100 000 rows per run, so a purge never holds long locks
		n, err := g.store.PurgeCounters(ctx, before, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
	return total, nil
}

// hash returns the counter-key form of a destination or an address.
func (g *Guard) hash(kind, value string) string {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// roundUp returns d rounded up to whole seconds, as Retry-After counts.
func roundUp(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

var errNoUser = errors.New("guard: empty user id")
