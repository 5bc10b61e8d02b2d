package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

// KeysCmd groups the key commands.
type KeysCmd struct {
	Rotate KeysRotateCmd `cmd:"" help:"Make a new signing key active now; the old one stays in JWKS until its tokens expire."`
	List   KeysListCmd   `cmd:"" help:"List signing keys."`
}

// KeysRotateCmd rotates the signing key.
type KeysRotateCmd struct{}

// Run rotates.
func (KeysRotateCmd) Run(ctx context.Context, g *Globals) error {
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	kid, err := a.Keys.Rotate(ctx)
	if err != nil {
		return err
	}
	audit(ctx, a, "signing_key_rotated", "", "", kid)
	if g.JSON {
		return printJSON(g, map[string]string{"kid": kid, "algorithm": a.Cfg.Keys.Algorithm})
	}
	fmt.Fprintf(g.stdout, "New %s signing key %s is active. Replicas pick it up within 10 seconds.\n", a.Cfg.Keys.Algorithm, kid)
	return nil
}

// KeysListCmd lists keys.
type KeysListCmd struct{}

// Run lists.
func (KeysListCmd) Run(ctx context.Context, g *Globals) error {
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	keys, err := a.Store.SigningKeys(ctx, a.Now())
	if err != nil {
		return err
	}
	type keyJSON struct {
		KID          string `json:"kid"`
		Algorithm    string `json:"algorithm"`
		CreatedAt    string `json:"created_at"`
		Active       bool   `json:"active"`
		VisibleUntil string `json:"visible_until,omitempty"`
	}
	out := make([]keyJSON, len(keys))
	for i, k := range keys {
		out[i] = keyJSON{KID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt.Format(time.RFC3339), Active: k.RetiredAt == nil}
		if k.VisibleUntil != nil {
			out[i].VisibleUntil = k.VisibleUntil.Format(time.RFC3339)
		}
	}
	if g.JSON {
		return printJSON(g, out)
	}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KID\tALG\tCREATED\tSTATE")
	for _, k := range out {
		state := "active"
		if !k.Active {
			state = "retired, in JWKS until " + k.VisibleUntil
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.KID, k.Algorithm, k.CreatedAt, state)
	}
	return w.Flush()
}
