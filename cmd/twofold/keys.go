package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
)

// KeysCmd groups the key commands.
type KeysCmd struct {
	Rotate KeysRotateCmd `cmd:"" help:"Make new signing keys (RS256 and ES256) active now; the old ones stay in JWKS until their tokens expire."`
	List   KeysListCmd   `cmd:"" help:"List signing keys."`
}

// KeysRotateCmd rotates the signing keys.
type KeysRotateCmd struct{}

// Run rotates through the admin service, which audits each new key.
func (KeysRotateCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(a *server.App, svc *admin.Admin) error {
		keys, err := svc.RotateKeys(ctx, admin.CLI)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, keys)
		}
		for _, k := range keys {
			fmt.Fprintf(g.stdout, "New %s signing key %s is active.\n", k.Algorithm, k.KID)
		}
		fmt.Fprintf(g.stdout, "Clients without an algorithm of their own get %s. Replicas pick the keys up within 10 seconds.\n", a.Cfg.Keys.Algorithm)
		return nil
	})
}

// KeysListCmd lists keys.
type KeysListCmd struct{}

// Run lists the keys still published in JWKS.
func (KeysListCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		keys, err := svc.SigningKeys(ctx)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, keys)
		}
		w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "KID\tALG\tCREATED\tSTATE")
		for _, k := range keys {
			state := "active"
			if !k.Active {
				state = "retired, in JWKS until "
				if k.VisibleUntil != nil {
					state += k.VisibleUntil.Format(time.RFC3339)
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.KID, k.Algorithm, k.CreatedAt.Format(time.RFC3339), state)
		}
		return w.Flush()
	})
}
