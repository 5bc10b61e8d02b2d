package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/twofold-id/twofold/op"
)

// KeysCmd groups the key commands.
type KeysCmd struct {
	Rotate KeysRotateCmd `cmd:"" help:"Make new signing keys (RS256 and ES256) active now; the old ones stay in JWKS until their tokens expire."`
	List   KeysListCmd   `cmd:"" help:"List signing keys."`
}

// KeysRotateCmd rotates the signing keys.
type KeysRotateCmd struct{}

// Run rotates.
func (KeysRotateCmd) Run(ctx context.Context, g *Globals) error {
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	kids, err := a.Keys.Rotate(ctx)
	type rotated struct {
		KID       string `json:"kid"`
		Algorithm string `json:"algorithm"`
	}
	var out []rotated
	for _, alg := range op.KeyAlgorithms { // some may be new even when one failed
		if kid, ok := kids[alg]; ok {
			audit(ctx, a, "signing_key_rotated", "", "", string(alg)+" "+kid)
			out = append(out, rotated{KID: kid, Algorithm: string(alg)})
		}
	}
	if err != nil {
		return err
	}
	if g.JSON {
		return printJSON(g, out)
	}
	for _, k := range out {
		fmt.Fprintf(g.stdout, "New %s signing key %s is active.\n", k.Algorithm, k.KID)
	}
	fmt.Fprintf(g.stdout, "Clients without an algorithm of their own get %s. Replicas pick the keys up within 10 seconds.\n", a.Cfg.Keys.Algorithm)
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
