package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/storage"
)

type configT = config.Config

func configDuration(d time.Duration) config.Duration { return config.Duration(d) }

// enrol gives a user one code method for the phone or email on the account.
func enrol(t *testing.T, s *testkit.Server, userID, method string) {
	t.Helper()
	ctx := context.Background()
	u, err := s.App.Store.User(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	dest := u.Phone
	if method == "email" {
		dest = u.Email
	}
	now := s.Clock.Now()
	err = s.App.Store.ReplaceSecondFactors(ctx, userID, []storage.SecondFactor{{ID: server.NewID(), UserID: userID,
		Method: storage.Method(method), Destination: dest, Preferred: true, VerifiedAt: &now, CreatedAt: now}})
	if err != nil {
		t.Fatal(err)
	}
}
