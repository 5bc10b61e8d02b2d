package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
)

// SessionCmd groups the session commands.
type SessionCmd struct {
	List   SessionListCmd   `cmd:"" help:"List live SSO sessions, newest first."`
	Revoke SessionRevokeCmd `cmd:"" help:"End one session, every session of a user (--user), or everyone's (--all)."`
}

// SessionListCmd lists sessions.
type SessionListCmd struct {
	User string `placeholder:"USER" help:"Only this user's sessions (username or id)."`
}

// Run lists the sessions.
func (c *SessionListCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(a *server.App, svc *admin.Admin) error {
		list, err := svc.Sessions(ctx, c.User)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, list)
		}
		w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SESSION ID\tUSER\tSIGNED IN\tLAST SEEN\tEXPIRES\tAMR\tCLIENTS\tIP")
		for _, s := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Username, s.CreatedAt.Format(time.RFC3339),
				s.LastSeenAt.Format(time.RFC3339), s.ExpiresAt.Format(time.RFC3339), strings.Join(s.AMR, ","),
				strings.Join(s.Clients, ","), s.IP)
		}
		return w.Flush()
	})
}

// SessionRevokeCmd ends sessions.
type SessionRevokeCmd struct {
	ID   string `arg:"" optional:"" help:"The session id (from session list)."`
	User string `placeholder:"USER" help:"End every session of this user (username or id)."`
	All  bool   `help:"End everyone's sessions: every user must sign in again."`
}

// Run ends the sessions asked for. Every replica sees it on the next
// request: the marks are checked on each use.
func (c *SessionRevokeCmd) Run(ctx context.Context, g *Globals) error {
	given := 0
	for _, set := range []bool{c.ID != "", c.User != "", c.All} {
		if set {
			given++
		}
	}
	if given != 1 {
		return errors.New("give exactly one of a session id, --user USER or --all")
	}
	return withAdmin(ctx, g, func(a *server.App, svc *admin.Admin) error {
		switch {
		case c.All:
			if err := svc.RevokeAll(ctx, admin.CLI); err != nil {
				return err
			}
			return c.done(g, "all", "", "Ended every session: everyone must sign in again; refresh and access tokens of users stop working.")
		case c.User != "":
			u, err := svc.RevokeUser(ctx, admin.CLI, c.User)
			if err != nil {
				return err
			}
			return c.done(g, "user", u.ID, fmt.Sprintf("Ended every session of %s and revoked their tokens.", u.Username))
		}
		if err := svc.RevokeSession(ctx, admin.CLI, c.ID); err != nil {
			return err
		}
		return c.done(g, "session", "", fmt.Sprintf("Ended session %s and revoked the tokens issued under it.", c.ID))
	})
}

func (c *SessionRevokeCmd) done(g *Globals, what, userID, text string) error {
	if g.JSON {
		out := map[string]string{"revoked": what}
		if userID != "" {
			out["user_id"] = userID
		}
		if c.ID != "" {
			out["session_id"] = c.ID
		}
		return printJSON(g, out)
	}
	fmt.Fprintln(g.stdout, text)
	return nil
}
