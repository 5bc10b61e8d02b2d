package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/metrics"
)

// routeClasses name the route_class label of a request path: a fixed set,
// so that ids in paths never become series. Order matters only where one
// prefix contains another.
var routeClasses = []struct{ prefix, class string }{
	{"/.well-known/", "discovery"},
	{"/keys", "keys"},
	{"/authorize", "authorize"},
	{"/oauth/token", "token"},
	{"/oauth/introspect", "introspect"},
	{"/revoke", "revoke"},
	{"/userinfo", "userinfo"},
	{"/end_session", "end_session"},
	{"/login", "login"},
	{"/logged-out", "login"},
	{"/account", "account"},
	{"/admin/", "admin"},
	{"/demo", "demo"},
	{"/static/", "static"},
	{"/healthz", "ops"},
	{"/readyz", "ops"},
	{"/ready", "ops"},
	{"/metrics", "ops"},
}

// routeClass returns the route class of a path: a prefix that ends in a
// slash matches everything under it, any other matches itself and what
// lies below it ("/login" and "/login/code", not "/loginx").
func routeClass(path string) string {
	for _, rc := range routeClasses {
		rest, ok := strings.CutPrefix(path, rc.prefix)
		if ok && (rest == "" || strings.HasSuffix(rc.prefix, "/") || rest[0] == '/') {
			return rc.class
		}
	}
	return "other"
}

// withMetrics counts every answered request by route class and status.
func withMetrics(m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK // nothing written: net/http answers 200
		}
		m.Request(routeClass(r.URL.Path), status, time.Since(start))
	})
}

// mountMetrics serves the Prometheus endpoint on the main listener when
// metrics.enabled is on and metrics.listen does not move it elsewhere.
// It is not a browser page: no page headers, no cross-origin check.
func mountMetrics(mux *http.ServeMux, a *App) {
	if !a.Cfg.Metrics.Enabled || a.Cfg.Metrics.Listen != "" {
		return
	}
	mux.Handle("GET /metrics", a.Metrics.Handler())
}

// metricsHandler is all the metrics.listen address serves: GET /metrics,
// and 404 for anything else.
func (a *App) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	if a.Cfg.Metrics.Enabled {
		mux.Handle("GET /metrics", a.Metrics.Handler())
	}
	return mux
}

// ListenMetrics opens the metrics.listen address; nil when it is not set
// (or metrics are off), and /metrics is on the main listener (or nowhere).
func (a *App) ListenMetrics() (net.Listener, error) { return ListenMetrics(a.Cfg) }

// ListenMetrics opens cfg's metrics.listen address, as App.ListenMetrics
// does, before an App is opened (serve binds before it writes anything).
func ListenMetrics(cfg config.Config) (net.Listener, error) {
	if !cfg.Metrics.Enabled || cfg.Metrics.Listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen: %w", err)
	}
	return ln, nil
}
