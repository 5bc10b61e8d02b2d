package server_test

import (
	"log/slog"
	"testing"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/storage/volume"
)

// TestPurgeWorksOffABacklog: a backlog larger than one batch of each kind
// goes in one run, in bounded rounds, and the live sessions stay.
func TestPurgeWorksOffABacklog(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.SecretKey = "test-secret-key-0123456789abcdef-0123456789"
	cfg.Database.URL = testkit.PostgresURL(t)
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	a, err := server.Open(ctx, cfg, slog.New(slog.DiscardHandler), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	// Two full batches and one row of each of the five kinds: three rounds.
	const expired = 5 * (2*5000 + 1)
	v := volume.Size{Users: 10, Sessions: 20, Expired: expired, PasswordHash: "$argon2id$unusable"}
	if _, err := volume.Seed(ctx, a.Store, v, a.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Purge(ctx); n != expired || err != nil {
		t.Fatalf("Purge = %d, %v; want all %d expired rows", n, err, expired)
	}
	if have, err := volume.Count(ctx, a.Store, a.Now()); err != nil || have != (volume.Size{Users: 10, Sessions: 20}) {
		t.Errorf("after Purge: %+v, %v; want the users and live sessions only", have, err)
	}
}
