package loadtest

import (
	"context"
	"errors"
	"fmt"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/storage"
)

// The seeded records have fixed ids and names, so repeated runs against one
// database reuse them (with new secrets) instead of piling up.
const (
	appClientID        = "twofold-bench-app"
	machineClientID    = "twofold-bench-machine"
	machineJWTClientID = "twofold-bench-machine-jwt"
	benchRedirectURI   = "http://127.0.0.1/twofold-bench/callback"
	benchPassword      = "bench-password-not-secret"
)

// Seed creates (or refreshes) the driver's clients and n users with an SMS
// second factor through the store, and returns them in e. The users'
// password hashes use the app's configured password parameters, which
// decide what a sign-in costs.
func Seed(ctx context.Context, a *server.App, e *Env, n int) error {
	specs := []struct {
		dst  *Client
		spec admin.ClientSpec
	}{
		{&e.App, admin.ClientSpec{ID: appClientID, Name: "twofold bench", RedirectURIs: []string{benchRedirectURI}}},
		{&e.Machine, admin.ClientSpec{ID: machineClientID, Name: "twofold bench (machine)", GrantTypes: []string{"client_credentials"}}},
		{&e.MachineJWT, admin.ClientSpec{ID: machineJWTClientID, Name: "twofold bench (machine, JWT)",
			GrantTypes: []string{"client_credentials"}, AccessTokenFormat: "jwt"}},
	}
	for _, s := range specs {
		c, err := seedClient(ctx, a, s.spec)
		if err != nil {
			return err
		}
		*s.dst = c
	}
	hash, err := a.Passwords().Hash(ctx, benchPassword)
	if err != nil {
		return err
	}
	e.Users = e.Users[:0]
	for i := range n {
		u := User{Username: fmt.Sprintf("bench-%05d", i), Password: benchPassword, Phone: fmt.Sprintf("+1415555%04d", i%10000)}
		if err := seedUser(ctx, a, u, hash); err != nil {
			return err
		}
		e.Users = append(e.Users, u)
	}
	return nil
}

// seedClient registers the client, or gives the existing one a new secret.
func seedClient(ctx context.Context, a *server.App, spec admin.ClientSpec) (Client, error) {
	c, secret, err := admin.NewClientRecord(spec, a.Ring, a.Now())
	if err != nil {
		return Client{}, err
	}
	switch err := a.Store.CreateClient(ctx, c); {
	case errors.Is(err, storage.ErrConflict):
		if err := a.Store.SetClientSecretHash(ctx, c.ID, c.SecretHash, a.Now()); err != nil {
			return Client{}, fmt.Errorf("client %s: %w", c.ID, err)
		}
	case err != nil:
		return Client{}, fmt.Errorf("client %s: %w", c.ID, err)
	}
	out := Client{ID: c.ID, Secret: secret}
	if len(spec.RedirectURIs) > 0 {
		out.RedirectURI = spec.RedirectURIs[0]
	}
	return out, nil
}

// seedUser creates the user with an SMS factor, or resets the password and
// the account guard of an existing one.
func seedUser(ctx context.Context, a *server.App, u User, hash string) error {
	now := a.Now()
	existing, err := a.Store.UserByUsername(ctx, u.Username)
	switch {
	case err == nil:
		if err := a.Store.UpdateUser(ctx, existing.ID, storage.UserUpdate{PasswordHash: &hash, Disabled: new(false)}, now); err != nil {
			return err
		}
		return a.Store.UnlockAccount(ctx, existing.ID)
	case !errors.Is(err, storage.ErrNotFound):
		return err
	}
	rec := &storage.User{ID: server.NewID(), Username: u.Username, Name: "Bench " + u.Username,
		Email: u.Username + "@bench.invalid", EmailVerified: true, Phone: u.Phone, PhoneVerified: true,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := a.Store.CreateUser(ctx, rec); err != nil {
		return fmt.Errorf("user %s: %w", u.Username, err)
	}
	return a.Store.ReplaceSecondFactors(ctx, rec.ID, []storage.SecondFactor{{ID: server.NewID(), UserID: rec.ID,
		Method: storage.MethodSMS, Destination: u.Phone, Preferred: true, VerifiedAt: &now, CreatedAt: now}})
}
