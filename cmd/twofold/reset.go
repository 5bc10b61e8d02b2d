package main

import (
	"context"
	"fmt"

	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/storage"
)

// UserResetCmd removes every second-factor method of a user.
type UserResetCmd struct {
	userRef
}

// Run removes the user's methods and recovery codes and ends their
// sessions, for someone who lost their phone. Under a policy that requires
// a second factor, their next sign-in takes them through enrolment.
func (c *UserResetCmd) Run(ctx context.Context, g *Globals) error {
	return withUser(ctx, g, c.User, func(a *server.App, u *storage.User) error {
		if err := a.Store.ResetSecondFactors(ctx, u.ID); err != nil {
			return err
		}
		if err := a.Store.RevokeUser(ctx, u.ID, a.Now()); err != nil {
			return err
		}
		audit(ctx, a, "second_factor_reset", u.ID, "", "")
		fmt.Fprintf(g.stdout, "Removed every second-factor method and recovery code of %s and ended their sessions.\n", u.Username)
		return nil
	})
}
