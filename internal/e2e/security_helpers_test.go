package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/storage"
)

// The attacker's and the real user's addresses, as a trusted proxy in front
// of twofold reports them in X-Forwarded-For (documentation ranges).
const (
	attackerIP = "203.0.113.7"
	userIP     = "198.51.100.9"
	gbPhone    = "+447400123456"
)

// attackServer is a code server behind a trusted proxy on loopback, so a
// browser picks its client address with X-Forwarded-For (see fromIP).
func attackServer(t *testing.T, o testkit.ServerOptions, configure func(*configT)) (*testkit.Server, *testkit.FakeTwilio, *testkit.SMTPSink) {
	t.Helper()
	o.Configure = func(c *configT) {
		c.TrustedProxies = []string{"127.0.0.1/32"}
		if configure != nil {
			configure(c)
		}
	}
	return codeServer(t, o)
}

// fromIP makes every request of b claim the client address ip, as the
// trusted proxy would (the server believes the right-most hop).
func fromIP(b *testkit.Browser, ip string) *testkit.Browser {
	b.HTTP.Transport = headerTransport{base: b.HTTP.Transport, header: http.Header{"X-Forwarded-For": {ip}}}
	return b
}

// headerTransport adds headers to every request.
type headerTransport struct {
	base   http.RoundTripper
	header http.Header
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.header {
		r.Header[k] = v
	}
	return h.base.RoundTrip(r)
}

// send issues a request with c and reads the answer (c decides whether
// redirects are followed); a transport failure fails the test.
func send(t testing.TB, c *http.Client, method, rawURL string, body io.Reader, header http.Header) *testkit.Page {
	t.Helper()
	p, err := do(c, method, rawURL, body, header)
	if err != nil {
		t.Fatalf("%s %.80s: %v", method, rawURL, err)
	}
	return p
}

// do is send for goroutines other than the test's: it returns the error.
func do(c *http.Client, method, rawURL string, body io.Reader, header http.Header) (*testkit.Page, error) {
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &testkit.Page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(b), Header: resp.Header}, nil
}

// postForm posts a form to the server with the browser's cookies.
func postForm(t testing.TB, b *testkit.Browser, base, path string, form url.Values, header http.Header) *testkit.Page {
	t.Helper()
	return send(t, b.HTTP, http.MethodPost, base+path, strings.NewReader(form.Encode()), header)
}

// wrongCode returns a well-formed code that is not right.
func wrongCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}

// failures is the stored consecutive-failure count of an account (0 when
// it has none).
func failures(t *testing.T, s *testkit.Server, userID string) int {
	t.Helper()
	g, err := s.App.Store.AccountGuard(context.Background(), userID)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return 0
		}
		t.Fatal(err)
	}
	return g.Failures
}

// auditDetails returns "type detail" of every audit event of a type.
func auditDetails(t *testing.T, s *testkit.Server, typ string) []string {
	t.Helper()
	events, err := s.App.Store.AuditEvents(context.Background(), storage.AuditFilter{Type: typ, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Type+" "+e.Detail)
	}
	return out
}

var (
	serverErrorLine = regexp.MustCompile(`(?m)^.*msg=request .*status=5\d\d.*$`)
	hiddenIDRE      = regexp.MustCompile(`name="authRequestID" value="[^"]*"`)
)

// noServerErrors fails when the server answered any request with a 5xx or
// recovered from a panic.
func noServerErrors(t *testing.T, s *testkit.Server) {
	t.Helper()
	log := s.Log.String()
	if strings.Contains(log, "panic serving request") {
		t.Errorf("the server panicked:\n%s", grepLines(log, "panic"))
	}
	if m := serverErrorLine.FindAllString(log, 5); len(m) > 0 {
		t.Errorf("the server answered with 5xx:\n%s", strings.Join(m, "\n"))
	}
}

func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// withoutRequestID blanks the hidden authRequestID of a page, the one part
// that differs between two sign-ins showing the same answer.
func withoutRequestID(body string) string {
	return hiddenIDRE.ReplaceAllString(body, `name="authRequestID" value=""`)
}

// recorder is a transport that keeps every exchange: the URL asked for,
// the Location answered, the cookies set and the body received.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []exchange
}

type exchange struct {
	URL, Location, Body string
	Cookies             []*http.Cookie
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.seen = append(r.seen, exchange{URL: req.URL.String(), Location: resp.Header.Get("Location"), Body: string(body), Cookies: resp.Cookies()})
	r.mu.Unlock()
	return resp, nil
}

// exchanges returns what was recorded so far.
func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// record makes b keep every exchange in the returned recorder.
func record(b *testkit.Browser) *recorder {
	rec := &recorder{base: b.HTTP.Transport}
	b.HTTP.Transport = rec
	return rec
}

// median of durations (sorts a copy).
func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}
