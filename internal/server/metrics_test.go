package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/config"
)

// openTestApp opens a provider on a SQLite file in a temporary directory.
func openTestApp(t *testing.T, configure func(*config.Config)) http.Handler {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.SecretKey = "test-secret-key-0123456789abcdef-0123456789"
	cfg.Database.URL = "sqlite:" + filepath.Join(dir, "twofold.db")
	if configure != nil {
		configure(&cfg)
	}
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func TestMetricsEndpoint(t *testing.T) {
	h := openTestApp(t, nil)
	if code, _ := get(h, "/healthz"); code != http.StatusOK {
		t.Fatalf("GET /healthz = %d", code)
	}
	code, body := get(h, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %.200s", code, body)
	}
	for _, want := range []string{
		"\nprocess_cpu_seconds_total ", "\nprocess_resident_memory_bytes ", "\ngo_goroutines ",
		"\ngo_memstats_alloc_bytes ",
		"\n" + `twofold_send_blocked_total{channel="sms",reason="budget"} 0`,
		"\n" + `twofold_sends_total{channel="sms",outcome="sent"} 0`,
		"\n" + `twofold_login_failures_total{factor="password"} 0`,
		// The request before this one was counted, under its class.
		"\n" + `twofold_http_requests_total{code="200",route_class="ops"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
	if code, _ := get(h, "/metrics?x=1"); code != http.StatusOK {
		t.Errorf("GET /metrics with a query = %d", code)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/metrics", nil))
	if rec.Code == http.StatusOK {
		t.Errorf("POST /metrics = %d, want a refusal", rec.Code)
	}
}

func TestMetricsDisabled(t *testing.T) {
	h := openTestApp(t, func(c *config.Config) { c.Metrics.Enabled = false })
	if code, body := get(h, "/metrics"); code == http.StatusOK || strings.Contains(body, "process_cpu_seconds_total") {
		t.Fatalf("GET /metrics with metrics.enabled false = %d: %.200s", code, body)
	}
}

func TestRouteClass(t *testing.T) {
	for path, want := range map[string]string{
		"/.well-known/openid-configuration": "discovery",
		"/keys":                             "keys",
		"/authorize":                        "authorize",
		"/authorize/callback":               "authorize",
		"/oauth/token":                      "token",
		"/oauth/introspect":                 "introspect",
		"/revoke":                           "revoke",
		"/userinfo":                         "userinfo",
		"/end_session":                      "end_session",
		"/login":                            "login",
		"/login/code/resend":                "login",
		"/logged-out":                       "login",
		"/account/callback":                 "account",
		"/admin/api/v1/users/8f3a0c":        "admin",
		"/demo":                             "demo",
		"/static/app.css":                   "static",
		"/healthz":                          "ops",
		"/readyz":                           "ops",
		"/metrics":                          "ops",
		"/loginx":                           "other",
		"/keysabc":                          "other",
		"/":                                 "other",
		"/alice@example.com":                "other",
	} {
		if got := routeClass(path); got != want {
			t.Errorf("routeClass(%q) = %q, want %q", path, got, want)
		}
	}
}
