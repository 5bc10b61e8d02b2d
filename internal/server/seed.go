package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"slices"

	"github.com/google/uuid"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/demo"
	"github.com/twofold-id/twofold/storage"
)

// Development credentials, printed at start. Development mode only.
const (
	DemoUsername = "demo"
	DemoPassword = "demo-password"
	DemoPhone    = "+14155550100"
)

// NewID returns a new record id.
func NewID() string { return uuid.NewString() }

// SeedResult says what SeedDev created.
type SeedResult struct{ Created bool }

// SeedDev creates the demo client and the demo user when they are missing,
// so the first run shows a whole sign-in, and points the demo client at the
// current issuer: in development the issuer follows the listen port, and
// the demo must keep working when it moves.
func (a *App) SeedDev(ctx context.Context) (*SeedResult, error) {
	res := &SeedResult{}
	redirects := []string{a.Cfg.Issuer + demo.RedirectPath}
	postLogout := []string{a.Cfg.Issuer + "/demo"}
	if c, err := a.Store.Client(ctx, demo.ClientID); errors.Is(err, storage.ErrNotFound) {
		c, _, err := admin.NewClientRecord(admin.ClientSpec{
			ID: demo.ClientID, Name: "twofold demo", Public: true,
			RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout,
		}, a.Ring, a.Now())
		if err != nil {
			return nil, err
		}
		if err := a.Store.CreateClient(ctx, c); err != nil {
			return nil, err
		}
		res.Created = true
	} else if err != nil {
		return nil, err
	} else if !slices.Equal(c.RedirectURIs, redirects) || !slices.Equal(c.PostLogoutRedirectURIs, postLogout) {
		c.RedirectURIs, c.PostLogoutRedirectURIs, c.UpdatedAt = redirects, postLogout, a.Now()
		if err := a.Store.UpdateClient(ctx, c); err != nil {
			return nil, fmt.Errorf("demo client: %w", err)
		}
		a.Log.Info("pointed the demo client at this issuer", "client_id", demo.ClientID, "redirect_uri", redirects[0])
	}
	if _, err := a.Store.UserByUsername(ctx, DemoUsername); errors.Is(err, storage.ErrNotFound) {
		hash, err := a.Passwords().Hash(ctx, DemoPassword)
		if err != nil {
			return nil, err
		}
		u := &storage.User{ID: NewID(), Username: DemoUsername, Name: "Demo User",
			Email: "demo@example.com", EmailVerified: true, Phone: DemoPhone, PhoneVerified: true,
			PasswordHash: hash, CreatedAt: a.Now(), UpdatedAt: a.Now()}
		if err := a.Store.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		now := a.Now()
		factors := []storage.SecondFactor{
			{ID: NewID(), UserID: u.ID, Method: storage.MethodSMS, Destination: u.Phone, Preferred: true, VerifiedAt: &now, CreatedAt: now},
			{ID: NewID(), UserID: u.ID, Method: storage.MethodEmail, Destination: u.Email, VerifiedAt: &now, CreatedAt: now},
		}
		if err := a.Store.ReplaceSecondFactors(ctx, u.ID, factors); err != nil {
			return nil, err
		}
		res.Created = true
	} else if err != nil {
		return nil, err
	}
	return res, nil
}

// PrintDevBanner tells a developer how to try the instance; listen is the
// address the server listens on. When the issuer names another port, the
// links would lead elsewhere: the banner says so first.
func (a *App) PrintDevBanner(w io.Writer, listen string) {
	if port, ok := issuerElsewhere(a.Cfg.Issuer, listen); ok {
		fmt.Fprintf(w, `
  WARNING: the issuer %s is not this server: it listens on %s (port %s).
           Browsers and the demo are sent to the issuer. Set issuer
           (TWOFOLD_ISSUER) to the URL that reaches this server, or leave it
           unset in development mode to derive it from listen.
`, a.Cfg.Issuer, listen, port)
	}
	fmt.Fprintf(w, `
  twofold is running in DEVELOPMENT mode (not for production).

    Try it:   %s/demo
    Sign in:  username %q, password %q
              then the SMS code, printed in this log ("one-time code")

    Discovery: %s/.well-known/openid-configuration
    Data:      %s (data_dir)
    Database:  %s

`, a.Cfg.Issuer, DemoUsername, DemoPassword, a.Cfg.Issuer, absDir(a.Cfg.DataDir), a.Cfg.Database.URL)
}

// issuerElsewhere reports whether the issuer's port differs from the port
// of the listen address, and returns the latter. A proxy in front may
// justify it, but in development it is usually a forgotten setting.
func issuerElsewhere(issuer, listen string) (string, bool) {
	_, port, err := net.SplitHostPort(listen)
	u, uerr := url.Parse(issuer)
	if err != nil || uerr != nil {
		return "", false
	}
	issuerPort := u.Port()
	if issuerPort == "" {
		issuerPort = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return port, issuerPort != port
}

// absDir is dir made absolute for people to find it ("data" means nothing
// once the terminal has moved on).
func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}
