package volume_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
	"github.com/twofold-id/twofold/storage/volume"
)

// TestSeedPostgres seeds a small volume, seeds it again, checks that
// no volume record is usable and that Purge removes the expired ones in
// bounded batches.
func TestSeedPostgres(t *testing.T) {
	s := open(t, testkit.PostgresURL(t))
	ctx := t.Context()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pw := password.NewHasher(64, 1, 1, 1, time.Second)
	hash, err := pw.Hash(ctx, keyring.RandomToken(32)) // a password nobody keeps
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	want := volume.Size{Users: 1000, Sessions: 2000, Expired: 3003}
	v := want
	v.PasswordHash = hash
	if added, err := volume.Seed(ctx, s, v, now); err != nil || added != want {
		t.Fatalf("Seed = %+v, %v; want %+v added", added, err, want)
	}
	if have, err := volume.Count(ctx, s, now); err != nil || have != want {
		t.Fatalf("Count = %+v, %v; want %+v", have, err, want)
	}
	if added, err := volume.Seed(ctx, s, v, now); err != nil || added != (volume.Size{}) {
		t.Fatalf("second Seed = %+v, %v; want nothing added", added, err)
	}
	v.Users = 1010
	if added, err := volume.Seed(ctx, s, v, now); err != nil || added != (volume.Size{Users: 10}) {
		t.Fatalf("Seed of 10 more users = %+v, %v; want only those added", added, err)
	}
	checkVolumeUser(t, s, pw, hash, now)
	purgeVolume(t, s, now, 3003)
	if have, err := volume.Count(ctx, s, now); err != nil || have != (volume.Size{Users: 1010, Sessions: 2000}) {
		t.Fatalf("Count after Purge = %+v, %v; want the users and live sessions only", have, err)
	}
	// What the purge took is missing again, so a new seeding restores it.
	if added, err := volume.Seed(ctx, s, v, now); err != nil || added != (volume.Size{Expired: 3003}) {
		t.Fatalf("Seed after Purge = %+v, %v; want the expired records back", added, err)
	}
}

// checkVolumeUser checks that a volume user has the shared hash, no second
// factor and no password anyone knows, and that its expired session is not
// active while its live ones are.
func checkVolumeUser(t *testing.T, s *storage.Store, pw *password.Hasher, hash string, now time.Time) {
	t.Helper()
	ctx := t.Context()
	u, err := s.UserByUsername(ctx, "volume-0000002")
	if err != nil {
		t.Fatalf("UserByUsername(volume-0000002): %v", err)
	}
	if u.PasswordHash != hash || u.Disabled || u.Admin || u.APIAccount || u.EmailVerified || u.Phone != "" {
		t.Errorf("volume user = %+v; want the shared hash and no privileges or contact", u)
	}
	for _, guess := range []string{"", u.Username, "bench-password-not-secret", "password"} {
		if ok, err := pw.Verify(ctx, u.PasswordHash, guess); ok || err != nil {
			t.Errorf("Verify(volume user, %q) = %v, %v; want false", guess, ok, err)
		}
	}
	if f, err := s.SecondFactors(ctx, u.ID); err != nil || len(f) != 0 {
		t.Errorf("SecondFactors(volume user) = %v, %v; want none", f, err)
	}
	live, err := s.Sessions(ctx, u.ID, now)
	if err != nil || len(live) != 2 {
		t.Fatalf("Sessions(volume user) = %d, %v; want 2 live", len(live), err)
	}
	// Listed as of 31 days ago, the user's expired session shows up too.
	all, err := s.Sessions(ctx, u.ID, now.AddDate(0, 0, -31))
	if err != nil || len(all) != 3 {
		t.Fatalf("Sessions(volume user, 31 days ago) = %d, %v; want 2 live and 1 expired", len(all), err)
	}
	for _, sess := range all {
		_, err := s.ActiveSession(ctx, sess.ID, now)
		switch expired := !sess.ExpiresAt.After(now); {
		case expired && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("ActiveSession(expired volume session) = %v; want ErrNotFound", err)
		case !expired && err != nil:
			t.Errorf("ActiveSession(live volume session) = %v", err)
		case len(sess.ID) != 64 || sess.UserAgent != "twofold-volume":
			t.Errorf("volume session id %q, user agent %q; want a SHA-256 in hex and the volume mark", sess.ID, sess.UserAgent)
		}
	}
}

// purgeVolume runs Purge with a small batch until it finds nothing, and
// checks that no call went past the batch of each of the five kinds.
func purgeVolume(t *testing.T, s *storage.Store, now time.Time, want int64) {
	t.Helper()
	const batch = 250
	var total int64
	calls := 0
	for {
		n, err := s.Purge(t.Context(), now, batch)
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if n > 5*batch {
			t.Fatalf("Purge(batch %d) deleted %d rows in one call", batch, n)
		}
		if n == 0 {
			break
		}
		total += n
		calls++
	}
	// 601 of each kind at 250 a call: three calls.
	if total != want || calls != 3 {
		t.Errorf("Purge deleted %d rows in %d calls; want %d in 3", total, calls, want)
	}
}

func TestSeedNeedsPostgres(t *testing.T) {
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "twofold.db"))
	_, err := volume.Seed(t.Context(), s, volume.Size{Users: 1, PasswordHash: "x"}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "needs PostgreSQL") {
		t.Fatalf("Seed on SQLite = %v; want an error saying it needs PostgreSQL", err)
	}
}

func open(t *testing.T, url string) *storage.Store {
	t.Helper()
	s, err := storage.Open(url, storage.Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", url, err)
	}
	// Registered after testkit's drop, so it runs before it.
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
