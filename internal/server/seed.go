package server

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/twofold-id/twofold/demo"
	"github.com/twofold-id/twofold/storage"
)

// Development credentials, printed at start. Development mode only.
const (
	DemoUsername = "demo"
	DemoPassword = "demo-password"
	DemoPhone    = "+14155550100"
)

// SeedResult says what SeedDev created.
type SeedResult struct{ Created bool }

// SeedDev creates the demo client and the demo user when they are missing,
// so the first run shows a whole sign-in.
func (a *App) SeedDev(ctx context.Context) (*SeedResult, error) {
	res := &SeedResult{}
	if _, err := a.Store.Client(ctx, demo.ClientID); errors.Is(err, storage.ErrNotFound) {
		c, _, err := NewClient(ClientSpec{
			ID: demo.ClientID, Name: "twofold demo", Public: true,
			RedirectURIs:           []string{a.Cfg.Issuer + demo.RedirectPath},
			PostLogoutRedirectURIs: []string{a.Cfg.Issuer + "/demo"},
		}, a.Ring, a.Now())
		if err != nil {
			return nil, err
		}
		if err := a.Store.CreateClient(ctx, c); err != nil {
			return nil, err
		}
		res.Created = true
	} else if err != nil {
		return nil, err
	}
	if _, err := a.Store.UserByUsername(ctx, DemoUsername); errors.Is(err, storage.ErrNotFound) {
		hash, err := a.Passwords().Hash(ctx, DemoPassword)
		if err != nil {
			return nil, err
		}
		u := &storage.User{ID: NewID(), Username: DemoUsername, Name: "Demo User",
			Email: "demo@example.com", EmailVerified: true, Phone: DemoPhone, PhoneVerified: true,
			PasswordHash: hash, CreatedAt: a.Now(), UpdatedAt: a.Now()}
		if err := a.Store.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		now := a.Now()
		factors := []storage.SecondFactor{
			{ID: NewID(), UserID: u.ID, Method: "sms", Destination: u.Phone, Preferred: true, VerifiedAt: &now, CreatedAt: now},
			{ID: NewID(), UserID: u.ID, Method: "email", Destination: u.Email, VerifiedAt: &now, CreatedAt: now},
		}
		if err := a.Store.ReplaceSecondFactors(ctx, u.ID, factors); err != nil {
			return nil, err
		}
		res.Created = true
	} else if err != nil {
		return nil, err
	}
	return res, nil
}

// PrintDevBanner tells a developer how to try the instance.
func (a *App) PrintDevBanner(w io.Writer) {
	fmt.Fprintf(w, `
  twofold is running in DEVELOPMENT mode (not for production).

    Try it:   %s/demo
    Sign in:  username %q, password %q
              then the SMS code, printed in this log ("one-time code")

    Discovery: %s/.well-known/openid-configuration
    Data:      %s

`, a.Cfg.Issuer, DemoUsername, DemoPassword, a.Cfg.Issuer, a.Cfg.Database.URL)
}
