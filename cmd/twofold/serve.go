package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// ServeCmd runs the provider.
type ServeCmd struct {
	NoMigrate bool `name:"no-migrate" help:"Do not apply pending migrations at start (same as database.auto_migrate: false)."`
}

// serveReady, when set (by tests, which cannot reach ServeCmd through run),
// receives the listening address once the server listens.
var serveReady func(addr string)

// Run starts the server and blocks until ctx ends (SIGINT/SIGTERM), then
// shuts down gracefully, finishing requests in flight.
func (s *ServeCmd) Run(ctx context.Context, g *Globals) error {
	started := time.Now()
	if s.NoMigrate {
		g.env = append(g.env, "TWOFOLD_DATABASE_AUTO_MIGRATE=false")
	}
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	slog.SetDefault(a.Log) // zitadel/oidc logs only through the default logger
	if err := a.Keys.EnsureKey(ctx); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if a.Cfg.Dev {
		if _, err := a.SeedDev(ctx); err != nil {
			return fmt.Errorf("seed development data: %w", err)
		}
	}
	handler, err := a.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.Cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	db := "sqlite"
	if a.Store.IsPostgres() {
		db = "postgres"
	}
	a.Log.Info("twofold is ready", "issuer", a.Cfg.Issuer, "listen", ln.Addr().String(), "dev", a.Cfg.Dev,
		"database", db, "startup", time.Since(started).Round(time.Millisecond))
	if a.Cfg.Dev {
		a.PrintDevBanner(g.stderr, ln.Addr().String())
	}
	if serveReady != nil {
		serveReady(ln.Addr().String())
	}
	return a.Serve(ctx, ln, handler)
}
