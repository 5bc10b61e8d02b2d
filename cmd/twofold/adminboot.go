package main

import (
	"context"
	"fmt"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/storage"
)

// AdminCmd groups the admin API commands.
type AdminCmd struct {
	Bootstrap AdminBootstrapCmd `cmd:"" help:"Create a machine client allowed to use the admin API; prints its id and secret once."`
}

// AdminBootstrapCmd creates the first admin credential.
type AdminBootstrapCmd struct {
	Name string `default:"twofold admin" help:"Display name of the client."`
}

// Run creates a client_credentials client with the twofold:admin scope.
func (c *AdminBootstrapCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(a *server.App, svc *admin.Admin) error {
		rec, secret, err := svc.Bootstrap(ctx, admin.CLI, c.Name)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, map[string]string{"client_id": rec.ID, "client_secret": secret})
		}
		return printBootstrap(g, a, rec, secret)
	})
}

func printBootstrap(g *Globals, a *server.App, rec *storage.Client, secret string) error {
	fmt.Fprintf(g.stdout, "client_id:      %s\nclient_secret:  %s  (shown once: store it now)\n\n", rec.ID, secret)
	fmt.Fprintf(g.stdout, "Get a token and call the admin API:\n\n")
	fmt.Fprintf(g.stdout, "  curl -s -u \"%s:$SECRET\" -d grant_type=client_credentials -d scope=%s %s/oauth/token\n", rec.ID, admin.Scope, a.Cfg.Issuer)
	fmt.Fprintf(g.stdout, "  curl -s -H \"Authorization: Bearer $TOKEN\" %s%s/users\n", a.Cfg.Issuer, admin.Prefix)
	return nil
}
