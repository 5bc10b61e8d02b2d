package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/metrics"
)

// scrape fetches the exposition text of m.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestCountersAndLabels(t *testing.T) {
	m := metrics.New()
	m.CodeSent("sms", "sent")
	m.CodeSent("email", "fallback")
	m.SendBlocked("sms", "country")
	m.SendBlocked("sms", "country")
	m.LoginFailure("password")
	m.Request("login", 200, 3*time.Millisecond)
	// Values outside the fixed sets must not become series of their own.
	m.CodeSent("+14155550123", "sent")
	m.SendBlocked("alice@example.com", "203.0.113.7")
	m.LoginFailure("alice")
	m.Request("token", 1000, time.Millisecond)

	body := scrape(t, m)
	for _, want := range []string{
		`twofold_sends_total{channel="sms",outcome="sent"} 1`,
		`twofold_sends_total{channel="email",outcome="fallback"} 1`,
		`twofold_sends_total{channel="voice",outcome="failed"} 0`, // known series start at zero
		`twofold_sends_total{channel="other",outcome="sent"} 1`,
		`twofold_send_blocked_total{channel="sms",reason="country"} 2`,
		`twofold_send_blocked_total{channel="email",reason="destination"} 0`,
		`twofold_send_blocked_total{channel="other",reason="other"} 1`,
		`twofold_login_failures_total{factor="password"} 1`,
		`twofold_login_failures_total{factor="other"} 1`,
		`twofold_http_requests_total{code="200",route_class="login"} 1`,
		`twofold_http_requests_total{code="0",route_class="token"} 1`,
		`twofold_http_request_duration_seconds_count{route_class="login"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, leak := range []string{"+1415", "alice", "example.com", "203.0.113", `code="1000"`} {
		if strings.Contains(body, leak) {
			t.Errorf("metrics contain %q", leak)
		}
	}
}

func TestRuntimeAndProcessCollectors(t *testing.T) {
	body := scrape(t, metrics.New())
	for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes",
		"process_open_fds", "go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds"} {
		if !strings.Contains(body, "\n"+name+" ") && !strings.Contains(body, "\n"+name+"{") {
			t.Errorf("metrics lack %s", name)
		}
	}
}

// Two providers in one process keep their own counts.
func TestRegistriesAreSeparate(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.SendBlocked("sms", "budget")
	if body := scrape(t, b); !strings.Contains(body, `twofold_send_blocked_total{channel="sms",reason="budget"} 0`+"\n") {
		t.Error("a count of one registry shows in another")
	}
}

func TestNilCountsNothing(t *testing.T) {
	var m *metrics.Metrics
	m.CodeSent("sms", "sent")
	m.SendBlocked("sms", "ip")
	m.LoginFailure("password")
	m.Request("login", 200, time.Second)
}
