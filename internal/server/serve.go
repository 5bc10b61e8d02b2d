package server

import (
	"context"
	"net/http"

	"github.com/twofold-id/twofold/account"
	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/demo"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/op"
)

// Handler composes the provider, the login pages, the account pages, the
// demo (development mode) and the operational endpoints (health, readiness, metrics) on one
// mux, and counts every request in a.Metrics.
func (a *App) Handler() (http.Handler, error) {
	if err := a.EnsureAccountClient(context.Background()); err != nil {
		return nil, err
	}
	ips := clientIPFunc(a.Cfg.TrustedPrefixes())
	secure := !a.Cfg.Dev
	var provider *op.Provider
	senders, err := a.senders()
	if err != nil {
		return nil, err
	}
	codes, err := a.codeHasher()
	if err != nil {
		return nil, err
	}
	passwords := a.Passwords() // one cap on concurrent hashes for the sign-in and the account pages
	svc, err := login.New(login.Config{
		Senders: senders, Codes: codes, OTP: a.otpSettings(), Issuer: a.Cfg.Issuer, AppName: "twofold",
		Policy: a.EffectivePolicy, Guard: a.Guard(),
		Store: a.Store, Passwords: passwords, Keyring: a.Ring,
		CookieName: a.Cfg.Session.CookieName, Secure: secure,
		SessionLifetime: a.Cfg.Session.Lifetime.D(),
		CallbackURL:     func(id string) string { return provider.CallbackURL(id) },
		ClientIP:        ips, Now: a.Now, Logger: a.Log, Metrics: a.Metrics,
	})
	if err != nil {
		return nil, err
	}
	pages, err := login.ParseTemplates()
	if err != nil {
		return nil, err
	}
	t := a.Cfg.Tokens
	provider, err = op.New(op.Options{
		Issuer: a.Cfg.Issuer, Store: a.Store, Keys: a.Keys, Keyring: a.Ring, LoginURL: "/login",
		Lifetimes: op.Lifetimes{AccessToken: t.AccessTokenTTL.D(), IDToken: t.IDTokenTTL.D(),
			RefreshToken: t.RefreshTokenTTL.D(), AuthCode: t.AuthCodeTTL.D(), Login: t.LoginTTL.D()},
		ReuseGrace:      op.ReuseGrace{Confidential: t.RefreshReuseGrace.D(), Public: t.RefreshReuseGracePublic.D()},
		AssertionLeeway: t.ClientAssertionLeeway.D(),
		Now:             a.Now, Logger: a.Log, ACRValues: login.ACRValues,
		SessionID: svc.SessionID, ClearSession: svc.ClearSession, CallbackGuard: svc.CallbackGuard,
		Pages: pages, PageHeaders: svc.PageHeaders, ClientIP: ips,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	svc.Mount(mux)
	account.New(account.Config{Store: a.Store, Login: svc, Redeem: provider, Passwords: passwords, PasswordRule: a.PasswordRule(),
		Issuer: a.Cfg.Issuer, Secure: secure, ClientIP: ips, Now: a.Now, Logger: a.Log}).Mount(mux)
	a.Admin(provider, ips).Mount(mux)
	if a.Cfg.Dev {
		demo.New(a.Cfg.Issuer, a.demoClient, pages, a.Ring, secure, a.Log).Mount(mux, svc.PageHeaders)
	}
	mountOps(mux, a)
	mountMetrics(mux, a)
	provider.Mount(mux)
	routes := withLanguageSwitch(svc.LanguageSwitch, withFallback(mux, Pages{NotFound: svc.NotFound(), MethodNotAllowed: svc.MethodNotAllowed()}))
	return withAccessLog(a.Log, withMetrics(a.Metrics, recoverPanics(a.Log, routes))), nil
}

// Admin returns the administration service over this app: the admin API
// when verify (the provider) is given, and the command line's with a nil
// verify. clientIP may be nil.
func (a *App) Admin(verify admin.Verifier, clientIP func(*http.Request) string) *admin.Admin {
	return admin.New(admin.Config{
		Store: a.Store, Ring: a.Ring, Passwords: a.Passwords(), PasswordRule: a.PasswordRule(),
		Policy:         a.EffectivePolicy,
		BuiltInClients: map[string]string{account.ClientID: "the account pages (/account) sign in with it"},
		Guard:          a.Guard(), Keys: a.Keys, KeyOrder: op.KeyAlgorithms,
		Verify: verify, ErrInvalidToken: op.ErrInvalidToken, ClientIP: clientIP, Now: a.Now, Log: a.Log,
	})
}
