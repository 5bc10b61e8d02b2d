package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// testUnavailable: answers about the data are not outages, and once the
// database cannot be used every kind of call (a read, a write, a
// transaction, a raw statement, the ping) fails with ErrUnavailable, so
// callers answer "try again shortly", never "your code is invalid".
func testUnavailable(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	ok(t, "CreateClient", s.CreateClient(ctx, &storage.Client{ID: "web", Name: "Web", AuthMethod: "none"}))
	_, err := s.Client(ctx, "nope")
	notOutage(t, "Client unknown", err, storage.ErrNotFound)
	notOutage(t, "CreateClient duplicate", s.CreateClient(ctx, &storage.Client{ID: "web", AuthMethod: "none"}), storage.ErrConflict)
	notOutage(t, "RotateRefreshToken unknown", s.RotateRefreshToken(ctx, "nope", &storage.RefreshToken{ID: "r2"}, now()), storage.ErrAlreadyUsed)

	ok(t, "Close", s.Close())
	at := now()
	_, err = s.Client(ctx, "web")
	outage(t, "Client", err)
	outage(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, &storage.AuthRequest{ID: "a1", ClientID: "web", CreatedAt: at, ExpiresAt: at.Add(time.Minute)}))
	outage(t, "RotateRefreshToken (a transaction)", s.RotateRefreshToken(ctx, "r1", &storage.RefreshToken{ID: "r2"}, at))
	_, err = s.HitCounter(ctx, "k", time.Minute, at)
	outage(t, "HitCounter (a raw statement)", err)
	outage(t, "Ping", s.Ping(ctx))
}

func notOutage(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) || errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("%s: err = %v, want %v and not ErrUnavailable", what, err, want)
	}
}

func outage(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("%s on a closed database: err = %v, want ErrUnavailable", what, err)
	}
}
