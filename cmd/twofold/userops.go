package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/storage"
)

// The commands that change one user, each a call of the admin service.

// userDone prints what a command did to u: the user as JSON with --json,
// text otherwise.
func userDone(g *Globals, u *storage.User, text string) error {
	return report(g, admin.ViewUser(u, nil), text)
}

// UserDisableCmd disables a user.
type UserDisableCmd struct{ userRef }

// Run disables the user and ends their sessions.
func (c *UserDisableCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, err := svc.SetDisabled(ctx, admin.CLI, c.User, true)
		if err != nil {
			return err
		}
		return userDone(g, u, fmt.Sprintf("Disabled %s; their sessions and tokens are revoked.", u.Username))
	})
}

// UserEnableCmd enables a user.
type UserEnableCmd struct{ userRef }

// Run enables the user.
func (c *UserEnableCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, err := svc.SetDisabled(ctx, admin.CLI, c.User, false)
		if err != nil {
			return err
		}
		return userDone(g, u, fmt.Sprintf("Enabled %s.", u.Username))
	})
}

// UserDeleteCmd deletes a user.
type UserDeleteCmd struct{ userRef }

// Run deletes the user.
func (c *UserDeleteCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, err := svc.DeleteUser(ctx, admin.CLI, c.User)
		if err != nil {
			return err
		}
		return report(g, map[string]string{"deleted": "user", "id": u.ID, "username": u.Username},
			fmt.Sprintf("Deleted %s; their sessions and tokens are revoked.", u.Username))
	})
}

// UserPasswordCmd sets a password.
type UserPasswordCmd struct {
	userRef
	PasswordStdin bool `name:"password-stdin" help:"Read the password from standard input."`
}

// Run sets the password and ends the user's sessions.
func (c *UserPasswordCmd) Run(ctx context.Context, g *Globals) error {
	pw, err := readPassword(g, c.PasswordStdin)
	if err != nil {
		return err
	}
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, err := svc.SetPassword(ctx, admin.CLI, c.User, pw)
		if err != nil {
			return err
		}
		return userDone(g, u, fmt.Sprintf("Password of %s changed; their sessions are ended.", u.Username))
	})
}

// UserFactorsCmd sets a user's code methods.
type UserFactorsCmd struct {
	userRef
	Methods   []string `required:"" sep:"," help:"Comma-separated: sms, voice, email; or none to remove them."`
	Preferred string   `help:"The method used first (default: the first of --methods)."`
}

// Run replaces the user's sms/voice/email methods. The admin vouches for
// the phone number and address on the account, so they count as verified:
// the methods, and the user's phone and email with them.
func (c *UserFactorsCmd) Run(ctx context.Context, g *Globals) error {
	methods := []storage.Method{}
	if !(len(c.Methods) == 1 && c.Methods[0] == "none") {
		for _, m := range c.Methods {
			methods = append(methods, storage.Method(m))
		}
	}
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		factors, err := svc.SetSecondFactors(ctx, admin.CLI, c.User, methods, storage.Method(c.Preferred))
		if err != nil {
			return err
		}
		u, _, err := svc.User(ctx, c.User)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, admin.ViewUser(u, factors))
		}
		if len(methods) == 0 {
			fmt.Fprintf(g.stdout, "%s signs in with a password alone.\n", u.Username)
			return nil
		}
		preferred := c.Preferred
		if preferred == "" {
			preferred = c.Methods[0]
		}
		fmt.Fprintf(g.stdout, "%s now signs in with a password and a code by %s (first: %s).\n", u.Username, strings.Join(c.Methods, ", "), preferred)
		return nil
	})
}

// UserAPIAccountCmd marks or unmarks an API account.
type UserAPIAccountCmd struct {
	userRef
	Off bool `help:"Make it an ordinary user again."`
}

// Run sets the flag through the admin service, as the admin API does.
func (c *UserAPIAccountCmd) Run(ctx context.Context, g *Globals) error {
	on := !c.Off
	return setUserFlag(ctx, g, c.User, admin.UserPatch{APIAccount: &on}, "an API account", on)
}

// UserAdminCmd grants or removes the admin role.
type UserAdminCmd struct {
	userRef
	Off bool `help:"Remove the admin role."`
}

// Run sets the role through the admin service.
func (c *UserAdminCmd) Run(ctx context.Context, g *Globals) error {
	on := !c.Off
	return setUserFlag(ctx, g, c.User, admin.UserPatch{Admin: &on}, "an admin", on)
}

func setUserFlag(ctx context.Context, g *Globals, ref string, p admin.UserPatch, what string, on bool) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, err := svc.UpdateUser(ctx, admin.CLI, ref, p)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, map[string]any{"id": u.ID, "username": u.Username, "api_account": u.APIAccount, "admin": u.Admin})
		}
		not := ""
		if !on {
			not = " no longer"
		}
		fmt.Fprintf(g.stdout, "%s is%s %s.\n", u.Username, not, what)
		return nil
	})
}

// UserResetCmd removes every second-factor method of a user.
type UserResetCmd struct{ userRef }

// Run removes the user's methods and recovery codes and ends their
// sessions, for someone who lost their phone. Under a policy that requires
// a second factor, their next sign-in takes them through enrolment.
func (c *UserResetCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, err := svc.ResetSecondFactors(ctx, admin.CLI, c.User)
		if err != nil {
			return err
		}
		return userDone(g, u, fmt.Sprintf("Removed every second-factor method and recovery code of %s and ended their sessions.", u.Username))
	})
}

// UserUnlockCmd lifts an account lock (limits.lock_after consecutive
// failures) and its backoff.
type UserUnlockCmd struct{ userRef }

// Run unlocks the user.
func (c *UserUnlockCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, err := svc.Unlock(ctx, admin.CLI, c.User)
		if err != nil {
			return err
		}
		return userDone(g, u, fmt.Sprintf("Unlocked %s: failed attempts are reset.", u.Username))
	})
}
