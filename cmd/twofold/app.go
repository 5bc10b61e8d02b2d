package main

import (
	"context"
	"strings"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/internal/server"
)

// loadConfig reads the configuration the global flags and environment name.
// TWOFOLD_CONFIG is looked up here, not by kong, which would read the
// process environment instead of the one run was given.
func loadConfig(g *Globals) (config.Config, error) {
	env := g.env
	if g.Dev {
		env = append(append([]string(nil), env...), "TWOFOLD_DEV=true")
	}
	path := g.Config
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "TWOFOLD_CONFIG="); ok && g.Config == "" {
			path = v // the last one wins, as in config.Load
		}
	}
	return config.Load(path, env)
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
