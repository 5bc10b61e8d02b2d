package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/metrics"
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

// mountMetrics serves the Prometheus endpoint when metrics.enabled is on.
// It is not a browser page: no page headers, no cross-origin check.
func mountMetrics(mux *http.ServeMux, a *App) {
	if !a.Cfg.Metrics.Enabled {
		return
	}
	mux.Handle("GET /metrics", a.Metrics.Handler())
}
