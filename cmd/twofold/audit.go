package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
)

// AuditCmd groups the audit commands.
type AuditCmd struct {
	List AuditListCmd `cmd:"" help:"List audit events, newest first, with the filters of GET /admin/api/v1/audit."`
}

// AuditListCmd lists one page of audit events.
type AuditListCmd struct {
	User   string `placeholder:"USER" help:"Only events of this user (username or id; a deleted user by id)."`
	Client string `placeholder:"ID" help:"Only events of this client."`
	Type   string `placeholder:"TYPE" help:"Only events of this type, e.g. policy_set."`
	Since  string `placeholder:"TIME" help:"Only events from this RFC 3339 time on, e.g. 2025-01-02T15:04:05Z."`
	Limit  int    `default:"100" help:"Events per page, 1 to 500."`
	Cursor string `help:"The next page: the cursor the previous page printed."`
}

// Run prints the page; with --json, {"events": […], "next_cursor": …} as
// the API answers.
func (c *AuditListCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		since, err := admin.ParseSince(c.Since)
		if err != nil {
			return err
		}
		page, err := svc.Audit(ctx, admin.AuditQuery{User: c.User, Client: c.Client, Type: c.Type, Since: since,
			Limit: c.Limit, Cursor: c.Cursor})
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, page)
		}
		w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "TIME\tTYPE\tACTOR\tUSER\tCLIENT\tIP\tOUTCOME\tDETAIL")
		for _, e := range page.Events {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.CreatedAt.Format(time.RFC3339), e.Type, e.Actor,
				e.UserID, e.ClientID, e.IP, e.Outcome, e.Detail)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if page.NextCursor != "" {
			fmt.Fprintf(g.stdout, "\nMore: add --cursor %s\n", page.NextCursor)
		}
		return nil
	})
}
