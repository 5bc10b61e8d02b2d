package main

import (
	"context"
	"fmt"

	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/storage"
)

// UserUnlockCmd lifts an account lock (100 consecutive failures) and its
// backoff.
type UserUnlockCmd struct {
	userRef
}

// Run unlocks the user.
func (c *UserUnlockCmd) Run(ctx context.Context, g *Globals) error {
	return withUser(ctx, g, c.User, func(a *server.App, u *storage.User) error {
		if err := a.Guard().Unlock(ctx, u.ID); err != nil {
			return err
		}
		audit(ctx, a, "account_unlocked", u.ID, "", "")
		fmt.Fprintf(g.stdout, "Unlocked %s: failed attempts are reset.\n", u.Username)
		return nil
	})
}
