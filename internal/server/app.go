// Package server composes twofold: it opens the store, the keys and the
// master secret from a configuration, builds the HTTP handler of every
// package, runs the background jobs and serves with a graceful shutdown.
// The twofold command and the end-to-end tests both start the provider
// through it, so the tests run exactly what operators run.
package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login/guard"
	"github.com/twofold-id/twofold/metrics"
	"github.com/twofold-id/twofold/op"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// App is an opened provider: configuration, store, keys.
type App struct {
	Cfg   config.Config
	Store *storage.Store
	Ring  *keyring.Keyring
	Keys  *op.Keys
	Log   *slog.Logger
	Now   func() time.Time
	// Metrics is this provider's own Prometheus registry and counters,
	// served at /metrics when metrics.enabled is on.
	Metrics *metrics.Metrics

	smtpInsecure bool         // tests: trust the SMTP sink's self-signed certificate
	demoClient   *http.Client // the demo's client to the issuer (tests: one that trusts theirs)

	guardOnce sync.Once
	guard     *guard.Guard

	draining  atomic.Bool   // shutting down: /readyz answers 503
	hurry     chan struct{} // closed by Hurry: the shutdown delay ends
	hurryOnce sync.Once
}

// Options adjust Open for tests.
type Options struct {
	// Now replaces the clock (tests move it to check expiry).
	Now func() time.Time
	// SkipMigrationCheck lets twofold migrate open a database with pending
	// migrations.
	SkipMigrationCheck bool
	// SMTPInsecureSkipVerify trusts any SMTP certificate (tests only).
	SMTPInsecureSkipVerify bool
	// DemoClient is the HTTP client the development demo talks to the
	// issuer with (tests: one that trusts the test server's certificate);
	// nil is a plain client.
	DemoClient *http.Client
}

// Open resolves the master key, opens the database and, unless
// database.auto_migrate is off, migrates it. The App logs through log with
// each request's id added to the lines logged in its context.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, o Options) (*App, error) {
	log = slog.New(withRequestIDs(log.Handler()))
	secret, err := masterSecret(cfg, log)
	if err != nil {
		return nil, err
	}
	ring, err := keyring.New(secret)
	if err != nil {
		return nil, err
	}
	store, err := storage.Open(cfg.Database.URL, storage.Options{MaxOpenConns: cfg.Database.MaxOpenConns})
	if err != nil {
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	a := &App{Cfg: cfg, Store: store, Ring: ring, Log: log, Now: now, Metrics: metrics.New(),
		smtpInsecure: o.SMTPInsecureSkipVerify, demoClient: o.DemoClient, hurry: make(chan struct{})}
	if a.demoClient == nil {
		a.demoClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Database.AutoMigrate {
		applied, err := store.Migrate(ctx)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("migrate database: %w", err)
		}
		if len(applied) > 0 {
			log.Info("applied database migrations", "versions", applied)
		}
	} else if n, err := store.Pending(ctx); !o.SkipMigrationCheck && (err != nil || n > 0) {
		store.Close()
		return nil, fmt.Errorf("database has %d pending migrations (run twofold migrate): %v", n, err)
	}
	retention := max(cfg.Tokens.AccessTokenTTL.D(), cfg.Tokens.IDTokenTTL.D()) + time.Hour
	a.Keys = op.NewKeys(store, ring, op.KeyOptions{Algorithm: cfg.Keys.Algorithm, RSABits: cfg.Keys.RSABits, Retention: retention}, now)
	return a, nil
}

// Close closes the store.
func (a *App) Close() error { return a.Store.Close() }

// Passwords returns the password hasher configured for this app.
func (a *App) Passwords() *password.Hasher {
	p := a.Cfg.Password
	return password.NewHasher(p.MemoryKiB, p.Iterations, p.Parallelism, p.MaxConcurrent, p.QueueTimeout.D())
}

// PasswordRule is the rule every new password meets, from password.*.
func (a *App) PasswordRule() password.Rule {
	return password.Rule{MinLength: a.Cfg.Password.MinLength}
}

// masterSecret returns secret_key, or in development mode the key kept in
// data_dir/secret.key, generated on first use.
func masterSecret(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.SecretKey != "" {
		return []byte(cfg.SecretKey), nil
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	data, err := os.ReadFile(path)
	if err == nil {
		return []byte(strings.TrimSpace(string(data))), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read development secret key: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data_dir: %w", err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write development secret key: %w", err)
	}
	log.Warn("generated a development secret key; set secret_key in production", "path", path)
	return []byte(key), nil
}

// NewLogger builds the slog logger the configuration asks for.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
