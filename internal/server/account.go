package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twofold-id/twofold/account"
	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/storage"
)

// EnsureAccountClient registers the built-in public client the account
// pages sign in with, when it is missing: the account pages are an
// application of the provider like any other, so the sign-in flow, its
// policy and its audit apply to them unchanged. An existing client is left
// as the operator may have changed it (a client policy, say), except that
// development mode adds this issuer's callback when it lacks it (there the
// issuer follows the listen port). It is registered only here, at start,
// so the admin service (API and command line) refuses to delete it.
func (a *App) EnsureAccountClient(ctx context.Context) error {
	callback := strings.TrimSuffix(a.Cfg.Issuer, "/") + account.CallbackPath
	existing, err := a.Store.Client(ctx, account.ClientID)
	if err == nil && !slices.Contains(existing.RedirectURIs, callback) {
		if !a.Cfg.Dev {
			a.Log.Warn("the account client lacks this issuer's callback; the account pages cannot sign in until it is added",
				"client_id", account.ClientID, "redirect_uri", callback)
			return nil
		}
		existing.RedirectURIs, existing.UpdatedAt = append(existing.RedirectURIs, callback), a.Now()
		if err := a.Store.UpdateClient(ctx, existing); err != nil {
			return fmt.Errorf("account client: %w", err)
		}
		a.Log.Info("added this issuer's callback to the account client", "client_id", account.ClientID, "redirect_uri", callback)
		return nil
	}
	if err == nil {
		return nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("account client: %w", err)
	}
	c, _, err := admin.NewClientRecord(admin.ClientSpec{
		ID: account.ClientID, Name: "Your twofold account", Public: true,
		RedirectURIs: []string{callback},
		GrantTypes:   []string{"authorization_code"},
	}, a.Ring, a.Now())
	if err != nil {
		return fmt.Errorf("account client: %w", err)
	}
	err = a.Store.CreateClient(ctx, c)
	if errors.Is(err, storage.ErrConflict) { // another replica created it meanwhile
		return nil
	} else if err != nil {
		return fmt.Errorf("account client: %w", err)
	}
	a.Log.Info("registered the account pages' client", "client_id", c.ID)
	return nil
}
