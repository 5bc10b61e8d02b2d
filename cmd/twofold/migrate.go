package main

import (
	"context"
	"fmt"

	"github.com/twofold-id/twofold/internal/server"
)

// MigrateCmd applies migrations.
type MigrateCmd struct {
	Status bool `help:"Only show which migrations are applied."`
}

// Run migrates (or reports).
func (m *MigrateCmd) Run(ctx context.Context, g *Globals) error {
	g.env = append(g.env, "TWOFOLD_DATABASE_AUTO_MIGRATE=false")
	a, err := openAppWith(ctx, g, server.Options{SkipMigrationCheck: true})
	if err != nil {
		return err
	}
	defer a.Close()
	applied := []int{}
	if !m.Status {
		if applied, err = a.Store.Migrate(ctx); err != nil {
			return err
		}
		if !g.JSON {
			fmt.Fprintf(g.stdout, "Applied %d migration(s).\n", len(applied))
		}
	}
	list, err := a.Store.Migrations(ctx)
	if err != nil {
		return err
	}
	if g.JSON {
		out := map[string]any{"migrations": list}
		if !m.Status {
			out["applied"] = append([]int{}, applied...)
		}
		return printJSON(g, out)
	}
	for _, s := range list {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		fmt.Fprintf(g.stdout, "%4d  %-8s  %s\n", s.Version, state, s.Name)
	}
	return nil
}
