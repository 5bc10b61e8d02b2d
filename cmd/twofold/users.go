package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// UserCmd groups the user commands.
type UserCmd struct {
	Create        UserCreateCmd     `cmd:"" help:"Create a user; the password is read from standard input."`
	List          UserListCmd       `cmd:"" help:"List users."`
	Show          UserShowCmd       `cmd:"" help:"Show one user."`
	Update        UserUpdateCmd     `cmd:"" help:"Change a user's name, email, phone or flags; those not given are kept."`
	Disable       UserDisableCmd    `cmd:"" help:"Disable a user and end their sessions."`
	Enable        UserEnableCmd     `cmd:"" help:"Enable a disabled user."`
	Delete        UserDeleteCmd     `cmd:"" help:"Delete a user and end their sessions."`
	SetPassword   UserPasswordCmd   `cmd:"" name:"set-password" help:"Set a user's password from standard input; ends their sessions."`
	SetFactors    UserFactorsCmd    `cmd:"" name:"set-second-factor" help:"Set the one-time-code methods (sms, voice, email) a user signs in with; marks the user's phone/email as verified by the admin."`
	SetAPIAccount UserAPIAccountCmd `cmd:"" name:"set-api-account" help:"Mark a user as an API account, exempt from the second factor where policy allows (--off to undo)."`
	SetAdmin      UserAdminCmd      `cmd:"" name:"set-admin" help:"Give a user the admin role: their tokens with the twofold:admin scope may use the admin API (--off to undo)."`
	ResetFactors  UserResetCmd      `cmd:"" name:"reset-second-factor" help:"Remove every second-factor method and recovery code of a user (lost phone)."`
	Unlock        UserUnlockCmd     `cmd:"" help:"Unlock an account locked after too many failed sign-ins."`
}

// userRef is the positional user argument of the single-user commands.
type userRef struct {
	User string `arg:"" help:"Username or user id."`
}

// readPassword reads one line from stdin: passwords never go on argv, where
// other users and shell history can see them. The admin service applies
// the password rule.
func readPassword(g *Globals, fromStdin bool) (string, error) {
	if !fromStdin {
		return "", errors.New("pass the password on standard input with --password-stdin (it is never read from the command line)")
	}
	line, err := bufio.NewReader(io.LimitReader(g.stdin, password.MaxBytes+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New(`no password on standard input: pipe one line in, e.g. printf '%s\n' '…' | twofold … --password-stdin`)
	}
	return pw, nil
}

// UserCreateCmd creates a user.
type UserCreateCmd struct {
	Username      string `required:"" help:"Sign-in name (case-insensitive)."`
	Email         string `help:"Email address."`
	Phone         string `help:"Phone number in international format, e.g. +14155550100."`
	Name          string `help:"Display name."`
	Locale        string `help:"Language of the codes and notices sent to the user, a BCP 47 tag (de, fr-CA); empty: each sign-in's."`
	PasswordStdin bool   `name:"password-stdin" help:"Read the password from standard input."`
}

// Run creates the user through the admin service.
func (c *UserCreateCmd) Run(ctx context.Context, g *Globals) error {
	pw, err := readPassword(g, c.PasswordStdin)
	if err != nil {
		return err
	}
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, err := svc.CreateUser(ctx, admin.CLI, admin.UserSpec{Username: c.Username, Name: c.Name, Email: c.Email, Phone: c.Phone, Locale: c.Locale, Password: pw})
		if err != nil {
			return err
		}
		return printUser(g, u)
	})
}

func printUser(g *Globals, u *storage.User) error {
	if g.JSON {
		return printJSON(g, admin.ViewUser(u, nil))
	}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "id:\t%s\nusername:\t%s\nname:\t%s\n", u.ID, u.Username, u.Name)
	fmt.Fprintf(w, "email:\t%s\nphone:\t%s\nlocale:\t%s\ndisabled:\t%v\n", withVerified(u.Email, u.EmailVerified),
		withVerified(u.Phone, u.PhoneVerified), u.Locale, u.Disabled)
	return w.Flush()
}

// withVerified marks a contact verified or not; an empty one stays empty.
func withVerified(contact string, verified bool) string {
	switch {
	case contact == "":
		return ""
	case verified:
		return contact + " (verified)"
	}
	return contact + " (not verified)"
}

// UserListCmd lists users.
type UserListCmd struct {
	Limit int `default:"1000" help:"At most this many."`
}

// Run lists the users by username, reading the admin service's pages.
func (c *UserListCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		list, err := allUsers(ctx, svc, c.Limit)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, list)
		}
		w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "USERNAME\tID\tEMAIL\tPHONE\tSTATUS")
		for _, u := range list {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.ID, u.Email, u.Phone, status)
		}
		return w.Flush()
	})
}

// allUsers reads pages of users until limit (0: all) or the last page.
func allUsers(ctx context.Context, svc *admin.Admin, limit int) ([]admin.UserView, error) {
	out := []admin.UserView{}
	cursor := ""
	for {
		size := 500
		if limit > 0 {
			size = min(size, limit-len(out))
		}
		if size <= 0 {
			return out, nil
		}
		page, err := svc.Users(ctx, size, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Users...)
		if cursor = page.NextCursor; cursor == "" {
			return out, nil
		}
	}
}

// UserShowCmd shows a user.
type UserShowCmd struct{ userRef }

// Run shows the user with their second factors.
func (c *UserShowCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, factors, err := svc.User(ctx, c.User)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, admin.ViewUser(u, factors))
		}
		if err := printUser(g, u); err != nil {
			return err
		}
		return printFactors(g, u, factors)
	})
}

// printFactors lists a user's second-factor methods and roles under
// printUser's lines.
func printFactors(g *Globals, u *storage.User, factors []storage.SecondFactor) error {
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "api account:\t%v\nadmin:\t%v\n", u.APIAccount, u.Admin)
	if len(factors) == 0 {
		fmt.Fprintf(w, "second factors:\tnone (password only)\n")
	}
	for i, f := range factors {
		label := ""
		if i == 0 {
			label = "second factors:"
		}
		line := string(f.Method)
		if f.Destination != "" {
			line += " " + f.Destination
		}
		if f.Preferred {
			line += " (preferred)"
		}
		fmt.Fprintf(w, "%s\t%s\n", label, line)
	}
	return w.Flush()
}

// UserUpdateCmd changes a user, as PATCH /admin/api/v1/users/{id} does: a
// flag left out keeps its value. An empty --email or --phone removes it,
// with the methods that used it; a new one carries them over.
type UserUpdateCmd struct {
	userRef
	Name       *string `help:"Display name."`
	Email      *string `help:"Email address (empty: remove it)."`
	Phone      *string `help:"Phone number in international format (empty: remove it)."`
	Locale     *string `help:"Language of the codes and notices sent to the user, a BCP 47 tag (empty: each sign-in's)."`
	Disabled   *bool   `negatable:"" help:"Disable the user and end their sessions (--no-disabled enables)."`
	APIAccount *bool   `name:"api-account" negatable:"" help:"Mark an API account (--no-api-account to undo)."`
	Admin      *bool   `negatable:"" help:"Give the admin role (--no-admin to remove it)."`
}

// Run applies the changes through the admin service.
func (c *UserUpdateCmd) Run(ctx context.Context, g *Globals) error {
	p := admin.UserPatch{Name: c.Name, Email: c.Email, Phone: c.Phone, Locale: c.Locale, Disabled: c.Disabled, APIAccount: c.APIAccount, Admin: c.Admin}
	if p == (admin.UserPatch{}) {
		return errors.New("nothing to change: give at least one of --name, --email, --phone, --locale, --disabled, --api-account, --admin")
	}
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		u, err := svc.UpdateUser(ctx, admin.CLI, c.User, p)
		if err != nil {
			return err
		}
		return printUser(g, u)
	})
}
