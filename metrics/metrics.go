// Package metrics is twofold's Prometheus instrumentation: one registry per
// provider (never the global default, so several providers in one test
// process do not collide) with the Go and process collectors, and the
// counters of code delivery, refused sends, sign-in failures and HTTP
// requests.
//
// Label values come from small fixed sets; anything else is counted as
// "other". No label ever holds a user, a destination, an address, a path
// with an id or any other value a request chooses, so the series stay few
// and the endpoint carries no personal data.
package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The label values the counters accept.
var (
	// Channels are the delivery channels, and totp for the per-sign-in cap
	// that also stops a switch to the authenticator app.
	Channels = []string{"sms", "voice", "email", "totp"}
	// Outcomes of one delivery attempt: sent on the chosen channel, sent on
	// a fallback channel instead, or failed at the provider.
	Outcomes = []string{"sent", "fallback", "failed"}
	// Reasons are the limits that refuse a send: those of login/guard and
	// resend, the per-sign-in cap.
	Reasons = []string{"country", "destination", "ip", "budget", "resend"}
	// Factors are what a counted failure got wrong.
	Factors = []string{"password", "sms", "voice", "email", "totp", "recovery"}
)

const other = "other"

// Metrics holds the registry and the counters of one provider. A nil
// *Metrics counts nothing.
type Metrics struct {
	reg      *prometheus.Registry
	sends    *prometheus.CounterVec
	blocked  *prometheus.CounterVec
	failures *prometheus.CounterVec
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New returns a registry with the Go and process collectors and twofold's
// counters, every known label combination starting at zero so that a
// dashboard sees a series before its first event.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twofold_sends_total",
			Help: "Delivery attempts of one-time codes (sign-in and verification), by channel and outcome (sent, fallback, failed).",
		}, []string{"channel", "outcome"}),
		blocked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twofold_send_blocked_total",
			Help: "Sends of one-time codes refused by an abuse limit (each also a code_send_refused audit event), by channel and limit.",
		}, []string{"channel", "reason"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twofold_login_failures_total",
			Help: "Failures that count toward account backoff and lockout, by factor (password, sms, voice, email, totp, recovery).",
		}, []string{"factor"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twofold_http_requests_total",
			Help: "HTTP requests answered, by route class and status code.",
		}, []string{"route_class", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "twofold_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route class.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route_class"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.sends, m.blocked, m.failures, m.requests, m.duration,
	)
	for _, ch := range Channels[:3] {
		for _, o := range Outcomes {
			m.sends.WithLabelValues(ch, o)
		}
	}
	for _, ch := range Channels {
		for _, r := range Reasons {
			if ch == "totp" && r != "resend" || ch == "email" && r == "country" {
				continue // combinations that cannot happen
			}
			m.blocked.WithLabelValues(ch, r)
		}
	}
	for _, f := range Factors {
		m.failures.WithLabelValues(f)
	}
	return m
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
}

// Gatherer exposes the registry to tests and embedders.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// CodeSent counts one delivery attempt of a code on channel.
func (m *Metrics) CodeSent(channel, outcome string) {
	if m == nil {
		return
	}
	m.sends.WithLabelValues(known(channel, Channels[:3]), known(outcome, Outcomes)).Inc()
}

// SendBlocked counts a send an abuse limit refused.
func (m *Metrics) SendBlocked(channel, reason string) {
	if m == nil {
		return
	}
	m.blocked.WithLabelValues(known(channel, Channels), known(reason, Reasons)).Inc()
}

// LoginFailure counts a failure of a factor.
func (m *Metrics) LoginFailure(factor string) {
	if m == nil {
		return
	}
	m.failures.WithLabelValues(known(factor, Factors)).Inc()
}

// Request counts an answered HTTP request of a route class (see
// RouteClass) and observes its duration.
func (m *Metrics) Request(class string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if status < 100 || status > 599 {
		status = 0
	}
	m.requests.WithLabelValues(class, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(class).Observe(d.Seconds())
}

// known returns v when it is one of values, else "other".
func known(v string, values []string) string {
	if slices.Contains(values, v) {
		return v
	}
	return other
}
