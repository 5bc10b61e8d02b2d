package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twofold-id/twofold/internal/server"
)

// ServeCmd runs the provider.
type ServeCmd struct {
	NoMigrate bool `name:"no-migrate" help:"Do not apply pending migrations at start (same as database.auto_migrate: false)."`
}

// serveReady, when set (by tests, which cannot reach ServeCmd through run),
// receives the listening address once the server listens.
var serveReady func(addr string)

// Run starts the server and blocks until ctx ends (SIGINT/SIGTERM), then
// shuts down gracefully (see server.App.Serve). It binds its listeners
// before it writes anything: a port in use fails without creating or
// migrating the database, generating a key or seeding the development data.
func (s *ServeCmd) Run(ctx context.Context, g *Globals) error {
	started := time.Now()
	if s.NoMigrate {
		g.env = append(g.env, "TWOFOLD_DATABASE_AUTO_MIGRATE=false")
	}
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close() // Serve closes it too; a second Close does no harm
	metricsLn, err := server.ListenMetrics(cfg)
	if err != nil {
		return err
	}
	if metricsLn != nil {
		defer metricsLn.Close()
	}
	a, err := openAppFrom(ctx, g, cfg, server.Options{})
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
	db := "sqlite"
	if a.Store.IsPostgres() {
		db = "postgres"
	}
	attrs := []any{"issuer", a.Cfg.Issuer, "listen", ln.Addr().String(), "dev", a.Cfg.Dev,
		"database", db, "startup", time.Since(started).Round(time.Millisecond)}
	if path := sqlitePath(a.Cfg.Database.URL); path != "" {
		attrs = append(attrs, "database_file", path)
	}
	if a.Cfg.Dev {
		attrs = append(attrs, "data_dir", a.Cfg.DataDir)
	}
	if metricsLn != nil {
		attrs = append(attrs, "metrics_listen", metricsLn.Addr().String())
	}
	a.Log.Info("twofold is ready", attrs...)
	if a.Cfg.Dev && !g.JSON {
		a.PrintDevBanner(g.stderr, ln.Addr().String())
	}
	if serveReady != nil {
		serveReady(ln.Addr().String())
	}
	served := make(chan struct{})
	defer close(served)
	go hurryOnSecondSignal(ctx, a, served)
	return a.Serve(ctx, server.Listeners{Main: ln, Metrics: metricsLn}, handler)
}

// hurryOnSecondSignal lets a second SIGINT or SIGTERM (Ctrl-C again at a
// terminal) end the shutdown delay, which is there for load balancers, not
// for a person waiting. The first signal ended ctx.
func hurryOnSecondSignal(ctx context.Context, a *server.App, served <-chan struct{}) {
	select {
	case <-ctx.Done():
	case <-served:
		return
	}
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	select {
	case <-again:
		a.Log.Info("second interrupt: skipping the rest of shutdown.delay")
		a.Hurry()
	case <-served:
	}
}
