package main

import (
	"context"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/internal/server"
)

// loadConfig reads the configuration the global flags and environment name.
func loadConfig(g *Globals) (config.Config, error) {
	env := g.env
	if g.Dev {
		env = append(append([]string(nil), env...), "TWOFOLD_DEV=true")
	}
	return config.Load(g.Config, env)
}

// openApp opens the provider's store and keys for a command.
func openApp(ctx context.Context, g *Globals) (*server.App, error) {
	return openAppWith(ctx, g, server.Options{})
}

func openAppWith(ctx context.Context, g *Globals, o server.Options) (*server.App, error) {
	cfg, err := loadConfig(g)
	if err != nil {
		return nil, err
	}
	return server.Open(ctx, cfg, server.NewLogger(cfg.Log, g.stderr), o)
}

// audit records a change made from the command line.
func audit(ctx context.Context, a *server.App, typ, userID, clientID, detail string) {
	a.Audit(ctx, typ, "cli", userID, clientID, detail)
}
