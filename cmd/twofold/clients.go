package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/storage"
)

// ClientCmd groups the client commands.
type ClientCmd struct {
	Create       ClientCreateCmd `cmd:"" help:"Register a client; prints its id and secret once."`
	List         ClientListCmd   `cmd:"" help:"List clients."`
	Show         ClientShowCmd   `cmd:"" help:"Show one client."`
	Update       ClientUpdateCmd `cmd:"" help:"Change a client's settings; those not given are kept."`
	Delete       ClientDeleteCmd `cmd:"" help:"Delete a client and revoke its tokens."`
	RotateSecret ClientRotateCmd `cmd:"" name:"rotate-secret" help:"Replace a client's secret; prints the new one once."`
}

// ClientCreateCmd registers a client.
type ClientCreateCmd struct {
	Name                  string   `required:"" help:"Display name, shown on the sign-in page."`
	ID                    string   `help:"Client id (default: random)."`
	RedirectURI           []string `name:"redirect-uri" help:"Allowed redirect URI, matched exactly (repeatable)."`
	PostLogoutRedirectURI []string `name:"post-logout-redirect-uri" help:"Allowed post-logout redirect URI (repeatable)."`
	Public                bool     `help:"Public client (SPA, native app): no secret, PKCE required."`
	GrantType             []string `name:"grant-type" help:"authorization_code, refresh_token, client_credentials (repeatable; default authorization_code and refresh_token)."`
	AuthMethod            string   `name:"auth-method" help:"client_secret_basic (default), client_secret_post, private_key_jwt, none."`
	ApplicationType       string   `name:"application-type" help:"web (default), native or user_agent."`
	AccessTokenFormat     string   `name:"access-token-format" help:"opaque (default) or jwt."`
	IDTokenAlg            string   `name:"id-token-signed-response-alg" help:"RS256 or ES256: the algorithm of the client's ID tokens and JWT access tokens (default: keys.algorithm)."`
	JWKSFile              string   `name:"jwks-file" type:"existingfile" help:"JWK Set of public keys, for private_key_jwt."`
	BackchannelLogoutURI  string   `name:"backchannel-logout-uri" help:"Where to POST a logout token when a session the client signed in through ends (https, or http on loopback)."`
	Scope                 []string `name:"scope" help:"Extra scope the client may ask for: twofold:admin (repeatable)."`
}

// Run creates the client through the admin service.
func (c *ClientCreateCmd) Run(ctx context.Context, g *Globals) error {
	spec := admin.ClientSpec{ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURI, PostLogoutRedirectURIs: c.PostLogoutRedirectURI,
		GrantTypes: c.GrantType, Public: c.Public, AuthMethod: c.AuthMethod, ApplicationType: c.ApplicationType,
		AccessTokenFormat: c.AccessTokenFormat, BackchannelLogoutURI: c.BackchannelLogoutURI, IDTokenSignedResponseAlg: c.IDTokenAlg,
		Scopes: c.Scope}
	if c.JWKSFile != "" {
		data, err := os.ReadFile(c.JWKSFile)
		if err != nil {
			return err
		}
		spec.JWKS = string(data)
	}
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		rec, secret, err := svc.CreateClient(ctx, admin.CLI, spec)
		if err != nil {
			return err
		}
		return printClient(g, rec, secret)
	})
}

func printClient(g *Globals, c *storage.Client, secret string) error {
	if g.JSON {
		return printJSON(g, admin.ViewClient(c, secret))
	}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "client_id:\t%s\n", c.ID)
	if secret != "" {
		fmt.Fprintf(w, "client_secret:\t%s\t(shown once: store it now)\n", secret)
	}
	fmt.Fprintf(w, "name:\t%s\n", c.Name)
	fmt.Fprintf(w, "auth method:\t%s\n", c.AuthMethod)
	fmt.Fprintf(w, "application type:\t%s\n", c.ApplicationType)
	fmt.Fprintf(w, "grant types:\t%s\n", strings.Join(c.GrantTypes, ", "))
	fmt.Fprintf(w, "redirect URIs:\t%s\n", strings.Join(c.RedirectURIs, " "))
	fmt.Fprintf(w, "post-logout URIs:\t%s\n", strings.Join(c.PostLogoutRedirectURIs, " "))
	fmt.Fprintf(w, "access tokens:\t%s\n", c.AccessTokenFormat)
	if c.IDTokenSignedResponseAlg != "" {
		fmt.Fprintf(w, "signing algorithm:\t%s\n", c.IDTokenSignedResponseAlg)
	}
	if c.BackchannelLogoutURI != "" {
		fmt.Fprintf(w, "back-channel logout:\t%s\n", c.BackchannelLogoutURI)
	}
	if len(c.Scopes) > 0 {
		fmt.Fprintf(w, "extra scopes:\t%s\n", strings.Join(c.Scopes, " "))
	}
	return w.Flush()
}

func printJSON(g *Globals, v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ClientListCmd lists clients.
type ClientListCmd struct{}

// Run lists the clients.
func (ClientListCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		list, err := svc.Clients(ctx)
		if err != nil {
			return err
		}
		if g.JSON {
			out := make([]admin.ClientView, len(list))
			for i := range list {
				out[i] = admin.ViewClient(&list[i], "")
			}
			return printJSON(g, out)
		}
		w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "CLIENT ID\tNAME\tAUTH\tGRANTS")
		for _, c := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", c.ID, c.Name, c.AuthMethod, strings.Join(c.GrantTypes, ","))
		}
		return w.Flush()
	})
}

// clientRef is the positional client argument.
type clientRef struct {
	ID string `arg:"" help:"Client id."`
}

// ClientShowCmd shows a client.
type ClientShowCmd struct{ clientRef }

// Run shows the client.
func (c *ClientShowCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		rec, err := svc.FindClient(ctx, "id", c.ID)
		if err != nil {
			return err
		}
		return printClient(g, rec, "")
	})
}

// ClientUpdateCmd changes a client, as PATCH /admin/api/v1/clients/{id}
// does: a flag left out keeps its setting. A list flag given replaces the
// whole list; given once with an empty value (--post-logout-redirect-uri ”)
// it empties it.
type ClientUpdateCmd struct {
	clientRef
	Name                  *string  `help:"Display name."`
	RedirectURI           []string `name:"redirect-uri" help:"The redirect URIs, replacing the registered ones (repeatable)."`
	PostLogoutRedirectURI []string `name:"post-logout-redirect-uri" help:"The post-logout redirect URIs, replacing the registered ones (repeatable)."`
	GrantType             []string `name:"grant-type" help:"The grant types, replacing the registered ones (repeatable)."`
	AccessTokenFormat     *string  `name:"access-token-format" help:"opaque or jwt."`
	IDTokenAlg            *string  `name:"id-token-signed-response-alg" help:"RS256 or ES256; an empty value follows keys.algorithm again."`
	BackchannelLogoutURI  *string  `name:"backchannel-logout-uri" help:"Back-channel logout URI; an empty value removes it."`
	Scope                 []string `name:"scope" help:"The extra scopes, replacing the granted ones (repeatable; an empty value removes them)."`
}

// Run applies the changes through the admin service.
func (c *ClientUpdateCmd) Run(ctx context.Context, g *Globals) error {
	list := func(v []string) *[]string {
		if v == nil {
			return nil // not given
		}
		out := []string{}
		for _, s := range v {
			if s != "" {
				out = append(out, s)
			}
		}
		return &out
	}
	p := admin.ClientPatch{Name: c.Name, RedirectURIs: list(c.RedirectURI), PostLogoutRedirectURIs: list(c.PostLogoutRedirectURI),
		GrantTypes: list(c.GrantType), AccessTokenFormat: c.AccessTokenFormat, IDTokenSignedResponseAlg: c.IDTokenAlg,
		BackchannelLogoutURI: c.BackchannelLogoutURI, Scopes: list(c.Scope)}
	if p == (admin.ClientPatch{}) {
		return fmt.Errorf("nothing to change: give at least one setting, e.g. --name %q", "New name")
	}
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		rec, err := svc.UpdateClient(ctx, admin.CLI, c.ID, p)
		if err != nil {
			return err
		}
		return printClient(g, rec, "")
	})
}

// ClientDeleteCmd deletes a client.
type ClientDeleteCmd struct{ clientRef }

// Run deletes the client through the admin service, which refuses the
// built-in clients as the admin API does.
func (c *ClientDeleteCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		if err := svc.DeleteClient(ctx, admin.CLI, c.ID); err != nil {
			return err
		}
		return report(g, map[string]string{"deleted": "client", "client_id": c.ID},
			fmt.Sprintf("Deleted client %s and revoked its tokens.", c.ID))
	})
}

// ClientRotateCmd replaces a client secret.
type ClientRotateCmd struct{ clientRef }

// Run rotates the secret.
func (c *ClientRotateCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(_ *server.App, svc *admin.Admin) error {
		secret, err := svc.RotateSecret(ctx, admin.CLI, c.ID)
		if err != nil {
			return err
		}
		return report(g, map[string]string{"client_id": c.ID, "client_secret": secret},
			fmt.Sprintf("client_id:      %s\nclient_secret:  %s  (shown once: store it now; the old secret no longer works)", c.ID, secret))
	})
}
