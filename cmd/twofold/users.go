package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"

	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/login/contact"
	"github.com/twofold-id/twofold/storage"
)

// UserCmd groups the user commands.
type UserCmd struct {
	Create        UserCreateCmd     `cmd:"" help:"Create a user; the password is read from standard input."`
	List          UserListCmd       `cmd:"" help:"List users."`
	Show          UserShowCmd       `cmd:"" help:"Show one user."`
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

// UserFactorsCmd sets a user's code methods.
type UserFactorsCmd struct {
	userRef
	Methods   []string `required:"" sep:"," help:"Comma-separated: sms, voice, email; or none to remove them."`
	Preferred string   `help:"The method used first (default: the first of --methods)."`
}

// Run replaces the user's sms/voice/email methods. The admin vouches for
// the phone number and address on the account, so they count as verified:
// the methods, and the user's phone and email with them (the store marks
// them in the same transaction).
func (c *UserFactorsCmd) Run(ctx context.Context, g *Globals) error {
	return withUser(ctx, g, c.User, func(a *server.App, u *storage.User) error {
		methods := c.Methods
		if len(methods) == 1 && methods[0] == "none" {
			methods = nil
		}
		if c.Preferred == "" && len(methods) > 0 {
			c.Preferred = methods[0]
		}
		var errs []error
		var factors []storage.SecondFactor
		now := a.Now()
		for _, name := range methods {
			m := storage.Method(name)
			if !m.SendsCode() {
				errs = append(errs, fmt.Errorf("--methods: %q is not sms, voice or email", m))
				continue
			}
			dest, what := u.Phone, "phone number"
			if m == storage.MethodEmail {
				dest, what = u.Email, "email address (--email)"
			}
			if dest == "" {
				errs = append(errs, fmt.Errorf("--methods %s: %s has no %s", m, u.Username, what))
				continue
			}
			if slices.ContainsFunc(factors, func(f storage.SecondFactor) bool { return f.Method == m }) {
				continue
			}
			factors = append(factors, storage.SecondFactor{ID: server.NewID(), UserID: u.ID, Method: m,
				Destination: dest, Preferred: name == c.Preferred, VerifiedAt: &now, CreatedAt: now})
		}
		if c.Preferred != "" && !slices.Contains(methods, c.Preferred) {
			errs = append(errs, fmt.Errorf("--preferred: %q is not one of --methods", c.Preferred))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if err := a.Store.ReplaceSecondFactors(ctx, u.ID, factors); err != nil {
			return err
		}
		audit(ctx, a, "second_factor_set", u.ID, "", "methods="+strings.Join(methods, ","))
		if len(factors) == 0 {
			fmt.Fprintf(g.stdout, "%s signs in with a password alone.\n", u.Username)
			return nil
		}
		fmt.Fprintf(g.stdout, "%s now signs in with a password and a code by %s (first: %s).\n", u.Username, strings.Join(methods, ", "), c.Preferred)
		return nil
	})
}

// readPassword reads one line from stdin: passwords never go on argv, where
// other users and shell history can see them.
func readPassword(g *Globals, fromStdin bool) (string, error) {
	if !fromStdin {
		return "", errors.New("pass the password on standard input with --password-stdin (it is never read from the command line)")
	}
	line, err := bufio.NewReader(io.LimitReader(g.stdin, login.MaxPasswordBytes+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New(`no password on standard input: pipe one line in, e.g. printf '%s\n' '…' | twofold … --password-stdin`)
	}
	if err := admin.CheckPassword(pw); err != nil {
		return "", fmt.Errorf("password: %w", err)
	}
	return pw, nil
}

// findUser looks a user up by username or id.
func findUser(ctx context.Context, a *server.App, ref string) (*storage.User, error) {
	u, err := a.Store.UserByUsername(ctx, ref)
	if errors.Is(err, storage.ErrNotFound) {
		u, err = a.Store.User(ctx, ref)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no user %q", ref)
	}
	return u, err
}

// UserCreateCmd creates a user.
type UserCreateCmd struct {
	Username      string `required:"" help:"Sign-in name (case-insensitive)."`
	Email         string `help:"Email address."`
	Phone         string `help:"Phone number in international format, e.g. +14155550100."`
	Name          string `help:"Display name."`
	PasswordStdin bool   `name:"password-stdin" help:"Read the password from standard input."`
}

// Run creates the user.
func (c *UserCreateCmd) Run(ctx context.Context, g *Globals) error {
	var errs []error
	if err := admin.CheckUsername(c.Username); err != nil {
		errs = append(errs, fmt.Errorf("--username: %w", err))
	}
	u := &storage.User{ID: server.NewID(), Username: c.Username, Name: c.Name}
	if c.Email != "" {
		email, err := contact.NormalizeEmail(c.Email)
		if err != nil {
			errs = append(errs, fmt.Errorf("--email: %w", err))
		}
		u.Email = email
	}
	if c.Phone != "" {
		phone, err := contact.NormalizePhone(c.Phone, "")
		if err != nil {
			errs = append(errs, fmt.Errorf("--phone: %w", err))
		}
		u.Phone = phone
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	pw, err := readPassword(g, c.PasswordStdin)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	if u.PasswordHash, err = a.Passwords().Hash(ctx, pw); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = a.Now(), a.Now()
	if err := a.Store.CreateUser(ctx, u); errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("username %q is taken", c.Username)
	} else if err != nil {
		return err
	}
	audit(ctx, a, "user_created", u.ID, "", "")
	return printUser(g, u)
}

func printUser(g *Globals, u *storage.User) error {
	if g.JSON {
		return printJSON(g, admin.ViewUser(u, nil))
	}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "id:\t%s\nusername:\t%s\nname:\t%s\n", u.ID, u.Username, u.Name)
	fmt.Fprintf(w, "email:\t%s\nphone:\t%s\ndisabled:\t%v\n", withVerified(u.Email, u.EmailVerified),
		withVerified(u.Phone, u.PhoneVerified), u.Disabled)
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

// Run lists the users.
func (c *UserListCmd) Run(ctx context.Context, g *Globals) error {
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := a.Store.Users(ctx, c.Limit)
	if err != nil {
		return err
	}
	if g.JSON {
		out := make([]admin.UserView, len(list))
		for i := range list {
			out[i] = admin.ViewUser(&list[i], nil)
		}
		return printJSON(g, out)
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
}

// userRef is the positional user argument of the single-user commands.
type userRef struct {
	User string `arg:"" help:"Username or user id."`
}

// UserShowCmd shows a user.
type UserShowCmd struct{ userRef }

// Run shows the user.
func (c *UserShowCmd) Run(ctx context.Context, g *Globals) error {
	return withUser(ctx, g, c.User, func(a *server.App, u *storage.User) error {
		factors, err := a.Store.SecondFactors(ctx, u.ID)
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

func withUser(ctx context.Context, g *Globals, ref string, fn func(a *server.App, u *storage.User) error) error {
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := findUser(ctx, a, ref)
	if err != nil {
		return err
	}
	return fn(a, u)
}

// UserDisableCmd disables a user.
type UserDisableCmd struct{ userRef }

// Run disables the user and ends their sessions.
func (c *UserDisableCmd) Run(ctx context.Context, g *Globals) error {
	return withUser(ctx, g, c.User, func(a *server.App, u *storage.User) error {
		if err := a.Store.UpdateUser(ctx, u.ID, storage.UserUpdate{Disabled: new(true)}, a.Now()); err != nil {
			return err
		}
		if err := a.Store.RevokeUser(ctx, u.ID, a.Now()); err != nil {
			return err
		}
		audit(ctx, a, "user_disabled", u.ID, "", "")
		fmt.Fprintf(g.stdout, "Disabled %s; their sessions and tokens are revoked.\n", u.Username)
		return nil
	})
}

// UserEnableCmd enables a user.
type UserEnableCmd struct{ userRef }

// Run enables the user.
func (c *UserEnableCmd) Run(ctx context.Context, g *Globals) error {
	return withUser(ctx, g, c.User, func(a *server.App, u *storage.User) error {
		if err := a.Store.UpdateUser(ctx, u.ID, storage.UserUpdate{Disabled: new(false)}, a.Now()); err != nil {
			return err
		}
		audit(ctx, a, "user_enabled", u.ID, "", "")
		fmt.Fprintf(g.stdout, "Enabled %s.\n", u.Username)
		return nil
	})
}

// UserDeleteCmd deletes a user.
type UserDeleteCmd struct{ userRef }

// Run deletes the user.
func (c *UserDeleteCmd) Run(ctx context.Context, g *Globals) error {
	return withUser(ctx, g, c.User, func(a *server.App, u *storage.User) error {
		if err := a.Store.DeleteUser(ctx, u.ID, a.Now()); err != nil {
			return err
		}
		audit(ctx, a, "user_deleted", u.ID, "", "")
		fmt.Fprintf(g.stdout, "Deleted %s; their sessions and tokens are revoked.\n", u.Username)
		return nil
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
	return withUser(ctx, g, c.User, func(a *server.App, u *storage.User) error {
		hash, err := a.Passwords().Hash(ctx, pw)
		if err != nil {
			return err
		}
		if err := a.Store.UpdateUser(ctx, u.ID, storage.UserUpdate{PasswordHash: &hash}, a.Now()); err != nil {
			return err
		}
		if err := a.Store.RevokeUser(ctx, u.ID, a.Now()); err != nil {
			return err
		}
		audit(ctx, a, "password_set", u.ID, "", "")
		fmt.Fprintf(g.stdout, "Password of %s changed; their sessions are ended.\n", u.Username)
		return nil
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
	return withAdmin(ctx, g, func(a *server.App, svc *admin.Admin) error {
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
