package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

// openApp opens the provider's store and keys for an administrative
// command. Those never create a database: a SQLite file that is not there
// is an error naming the path (and how to create it), not a fresh, empty
// database and a development secret key left in the current directory.
func openApp(ctx context.Context, g *Globals) (*server.App, error) {
	cfg, err := loadConfig(g)
	if err != nil {
		return nil, err
	}
	if err := databaseExists(cfg); err != nil {
		return nil, err
	}
	return openAppFrom(ctx, g, cfg, server.Options{})
}

// openAppWith opens the app for serve and migrate, which create the
// database when it is not there.
func openAppWith(ctx context.Context, g *Globals, o server.Options) (*server.App, error) {
	cfg, err := loadConfig(g)
	if err != nil {
		return nil, err
	}
	return openAppFrom(ctx, g, cfg, o)
}

func openAppFrom(ctx context.Context, g *Globals, cfg config.Config, o server.Options) (*server.App, error) {
	logFormat := cfg.Log
	if g.JSON {
		logFormat.Format = "json" // --json: every line on stderr is JSON too
	}
	return server.Open(ctx, cfg, server.NewLogger(logFormat, g.stderr), o)
}

// sqlitePath is the file of a sqlite: database URL ("" for PostgreSQL).
func sqlitePath(url string) string {
	path, ok := strings.CutPrefix(url, "sqlite:")
	if !ok {
		return ""
	}
	path = strings.TrimPrefix(path, "//")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

// databaseExists fails when the configuration names a SQLite file that is
// not there, saying where it looked and how to create the database.
func databaseExists(cfg config.Config) error {
	path := sqlitePath(cfg.Database.URL)
	if path == "" {
		return nil
	}
	_, err := os.Stat(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil // another problem: opening the database reports it
	}
	shown := path
	if abs, err := filepath.Abs(path); err == nil {
		shown = abs
	}
	serve := "twofold serve"
	if cfg.Dev {
		serve = "twofold serve --dev"
	}
	return fmt.Errorf("no database at %s (database.url %s): run %q in this directory first, or \"twofold migrate\" to create an empty one; or point data_dir (TWOFOLD_DATA_DIR) or database.url (TWOFOLD_DATABASE_URL) at an existing database",
		shown, cfg.Database.URL, serve)
}
