// Package admin is twofold's administration and the only door for its
// writes: one service for clients, users, policies, sessions, signing keys
// and the audit log, used by both the JSON API under /admin/api/v1 and the
// twofold command line, so that both validate input (the client rules
// live here), record one audit event per change and end sessions the same
// way. Input errors name the field as the API does; the command line maps
// fields to its flags. The API is authenticated with bearer tokens this
// provider issued itself.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// Scope is the OAuth scope an access token needs for the admin API.
const Scope = "twofold:admin"

// ExtraScopes are the scopes, beyond the standard OpenID ones, that a
// client can be granted.
var ExtraScopes = []string{Scope}

// Verifier checks a bearer token this provider issued; op.Provider is one.
type Verifier interface {
	VerifyAccessToken(ctx context.Context, raw string) (*storage.AccessToken, error)
}

// Config is what the service is built from. The composition root
// (internal/server) fills it, because admin cannot import it.
type Config struct {
	Store *storage.Store
	Ring  *keyring.Keyring
	// Passwords hashes new passwords; PasswordRule is what they must be.
	Passwords    *password.Hasher
	PasswordRule password.Rule
	// Policy resolves the effective policy of a user at a client, as the
	// sign-in does, for explanations.
	Policy func(ctx context.Context, clientID, userID string) (policy.Effective, error)
	// BuiltInClients are the clients the provider's own pages sign in
	// with, and what uses each: the server registers them only at start,
	// so deleting one would break those pages until a restart.
	BuiltInClients map[string]string
	// Guard unlocks accounts.
	Guard Unlocker
	// Keys rotates the signing keys; KeyOrder is the order the new keys
	// are reported in.
	Keys     KeyRotator
	KeyOrder []jose.SignatureAlgorithm
	// Verify authenticates API callers; nil when only the CLI uses the
	// service.
	Verify Verifier
	// ErrInvalidToken is what Verify returns for a bad token (401); any
	// other error from it is internal.
	ErrInvalidToken error
	// ClientIP names the address of a request for audit events.
	ClientIP func(*http.Request) string
	Now      func() time.Time
	Log      *slog.Logger
}

// Unlocker lifts an account's lock and backoff: the sign-in's guard is one.
type Unlocker interface {
	Unlock(ctx context.Context, userID string) error
}

// KeyRotator makes new signing keys active: op.Keys is one. It returns
// the new key id of each algorithm, those that were made even when
// another failed.
type KeyRotator interface {
	Rotate(ctx context.Context) (map[jose.SignatureAlgorithm]string, error)
}

// Admin is the administration service.
type Admin struct {
	cfg   Config
	store *storage.Store
}

// New returns the service.
func New(cfg Config) *Admin {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	return &Admin{cfg: cfg, store: cfg.Store}
}

// Actor is who makes a change: "client:<id>", "user:<id>" or "cli", with
// the address the request came from.
type Actor struct {
	Name string
	IP   string
}

// CLI is the actor of changes made from the command line.
var CLI = Actor{Name: "cli"}

// audit records one change. A failed write is logged, not returned: the
// change itself has happened.
func (a *Admin) audit(ctx context.Context, actor Actor, typ, userID, clientID, detail string) {
	e := &storage.AuditEvent{CreatedAt: a.cfg.Now(), Type: typ, Actor: actor.Name, UserID: userID,
		ClientID: clientID, IP: actor.IP, Outcome: "ok", Detail: detail}
	if err := a.store.Audit(ctx, e); err != nil {
		a.cfg.Log.ErrorContext(ctx, "audit write failed", "type", typ, "err", err)
	}
}

// FindUser looks a user up by username or id; a not_found Error naming
// field when neither matches.
func (a *Admin) FindUser(ctx context.Context, field, ref string) (*storage.User, error) {
	if ref == "" {
		return nil, invalid(field, "a username or user id is required")
	}
	u, err := a.store.UserByUsername(ctx, ref)
	if errors.Is(err, storage.ErrNotFound) {
		u, err = a.store.User(ctx, ref)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound(field, "no user %q", ref)
	}
	return u, err
}

// FindClient loads a client; a not_found Error naming field when unknown.
func (a *Admin) FindClient(ctx context.Context, field, id string) (*storage.Client, error) {
	if id == "" {
		return nil, invalid(field, "a client id is required")
	}
	c, err := a.store.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound(field, "no client with id %q", id)
	}
	return c, err
}
