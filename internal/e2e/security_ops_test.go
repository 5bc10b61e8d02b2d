package e2e

// The security suite, part three: operations. A stopping replica must not
// refuse traffic its load balancer still sends, a database outage is not
// reported as the client's fault, and /metrics can be kept off the public
// listener.

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/testkit"
)

// trickle is a token request whose body is sent in two parts: it is in
// flight from the first part until finish sends the rest.
type trickle struct {
	rest   string
	body   *io.PipeWriter
	answer chan trickleAnswer
}

type trickleAnswer struct {
	status int
	body   string
	err    error
}

// startTrickle sends the headers and the first bytes of form to path; it
// returns once the server has the connection (the TLS handshake is done
// before the client sends a byte of the body).
func startTrickle(t *testing.T, s *testkit.Server, path string, form url.Values, user, pass string) *trickle {
	t.Helper()
	raw := form.Encode()
	r, w := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(raw))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	tr := &trickle{rest: raw[10:], body: w, answer: make(chan trickleAnswer, 1)}
	go func() {
		resp, err := (&http.Client{Transport: s.Transport()}).Do(req)
		if err != nil {
			tr.answer <- trickleAnswer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		tr.answer <- trickleAnswer{status: resp.StatusCode, body: string(b), err: err}
	}()
	if _, err := w.Write([]byte(raw[:10])); err != nil {
		t.Fatal(err)
	}
	return tr
}

// finish sends the rest of the body and returns the answer.
func (tr *trickle) finish(t *testing.T) trickleAnswer {
	t.Helper()
	if _, err := tr.body.Write([]byte(tr.rest)); err != nil {
		t.Fatalf("the rest of the body could not be sent: %v", err)
	}
	tr.body.Close()
	return <-tr.answer
}

// shot is one request of the load fired around a shutdown.
type shot struct {
	at     time.Duration // since the shutdown began
	status int
	err    error
}

// fire sends GET requests to paths from workers goroutines until the
// listener refuses them or stop closes, and returns every outcome.
func fire(s *testkit.Server, begin time.Time, stop <-chan struct{}, paths []string) []shot {
	const workers = 4
	var (
		mu    sync.Mutex
		shots []shot
		wg    sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			c := &http.Client{Transport: s.Transport(), Timeout: 10 * time.Second}
			for i := 0; i < 500; i++ {
				select {
				case <-stop:
					return
				default:
				}
				at := time.Since(begin)
				p, err := do(c, http.MethodGet, s.URL+paths[(w+i)%len(paths)], nil, nil)
				sh := shot{at: at, err: err}
				if p != nil {
					sh.status = p.Status
				}
				mu.Lock()
				shots = append(shots, sh)
				mu.Unlock()
				if err != nil {
					return // refused: the listener is closed
				}
			}
		})
	}
	wg.Wait()
	return shots
}

// listenerClosed polls until a connection to the server's port is refused.
func listenerClosed(t *testing.T, s *testkit.Server, within time.Duration) {
	t.Helper()
	addr := strings.TrimPrefix(s.URL, "https://")
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the listener still accepts %s after shutdown began", within)
}

// SIGTERM does not drop traffic: /readyz fails at once so the load
// balancer takes the replica out, every request keeps being served for
// shutdown.delay, and only then does the listener close; a request in
// flight at that moment still gets its answer.
func TestSecurityShutdownDrains(t *testing.T) {
	const delay = 400 * time.Millisecond
	s := testkit.NewServer(t, testkit.ServerOptions{Configure: func(c *configT) {
		c.Shutdown.Delay = configDuration(delay)
		c.Shutdown.Timeout = configDuration(10 * time.Second)
	}})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
	exchange := startTrickle(t, s, "/oauth/token", url.Values{"grant_type": {"authorization_code"},
		"code": {f.Code()}, "redirect_uri": {app.RedirectURI}, "code_verifier": {f.Verifier}}, app.ID, app.Secret)

	begin := time.Now()
	stopped := s.BeginStop()
	firing := make(chan []shot, 1)
	go func() {
		firing <- fire(s, begin, stopped, []string{"/.well-known/openid-configuration", "/keys", "/healthz"})
	}()

	// /readyz fails at once (well before the delay ends), on a new
	// connection each time, as a load balancer's probe would.
	probe := &http.Client{Transport: &http.Transport{TLSClientConfig: s.Transport().TLSClientConfig, DisableKeepAlives: true}}
	for {
		p, err := do(probe, http.MethodGet, s.URL+"/readyz", nil, nil)
		if err != nil {
			t.Fatalf("/readyz refused %s after shutdown began, before it ever answered 503: %v", time.Since(begin), err)
		}
		if p.Status == http.StatusServiceUnavailable {
			if took := time.Since(begin); took >= delay {
				t.Errorf("/readyz answered 503 only %s after shutdown began (shutdown.delay %s)", took, delay)
			}
			break
		}
		if p.Status != http.StatusOK {
			t.Fatalf("/readyz during shutdown: %s", p)
		}
	}

	listenerClosed(t, s, 5*time.Second)
	closedAfter := time.Since(begin)
	if closedAfter < delay {
		t.Errorf("the listener closed %s after shutdown began, before shutdown.delay (%s)", closedAfter, delay)
	}
	shots := <-firing
	served := 0
	for _, sh := range shots {
		switch {
		// A request sent late in the delay may still be connecting when the
		// listener closes; one sent in its first half has had time enough.
		case sh.at < delay/2 && (sh.err != nil || sh.status != http.StatusOK):
			t.Errorf("a request sent %s into the shutdown got status %d, error %v", sh.at, sh.status, sh.err)
		case sh.err == nil && sh.status != http.StatusOK:
			t.Errorf("a request sent %s into the shutdown got status %d", sh.at, sh.status)
		case sh.err == nil:
			served++
		}
	}
	if served < 8 {
		t.Errorf("only %d of %d requests fired around the shutdown were served", served, len(shots))
	}

	// The exchange in flight since before the shutdown finishes normally.
	answer := exchange.finish(t)
	var tokens struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if answer.err != nil || answer.status != http.StatusOK || json.Unmarshal([]byte(answer.body), &tokens) != nil || tokens.IDToken == "" {
		t.Errorf("the code exchange in flight across the shutdown = %d %q, error %v; want 200 with tokens", answer.status, answer.body, answer.err)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop within 10 s of its last request")
	}
}

// shutdown.timeout bounds the drain: a request that never finishes does not
// hold the replica past it; its connection is closed.
func TestSecurityShutdownTimeoutBoundsDrain(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{Configure: func(c *configT) {
		c.Shutdown.Delay = configDuration(200 * time.Millisecond) // the stuck request is read meanwhile
		c.Shutdown.Timeout = configDuration(300 * time.Millisecond)
	}})
	app := s.NewRP(t, testkit.ClientOptions{})
	stuck := startTrickle(t, s, "/oauth/token", url.Values{"grant_type": {"authorization_code"},
		"code": {"never-sent-in-full"}, "redirect_uri": {app.RedirectURI}}, app.ID, app.Secret)
	select {
	case <-s.BeginStop():
	case <-time.After(10 * time.Second):
		t.Fatal("the server still waits for a stuck request 10 s into a shutdown with shutdown.timeout 300ms")
	}
	stuck.body.CloseWithError(io.ErrUnexpectedEOF) // the client's writer gives up too
	if a := <-stuck.answer; a.err == nil {
		t.Errorf("the stuck request got an answer (%d %q) instead of a closed connection", a.status, a.body)
	}
	if !strings.Contains(s.Log.String(), "requests still in flight after shutdown.timeout") {
		t.Errorf("no log line says that connections were closed at shutdown.timeout:\n%s", grepLines(s.Log.String(), "shutting down"))
	}
}

// metrics.listen keeps /metrics off the public listener: the main listener
// answers 404 for it, and the metrics address serves it (and nothing else),
// counting the main listener's requests.
func TestSecurityMetricsListener(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{Configure: func(c *configT) { c.Metrics.Listen = "127.0.0.1:0" }})
	b := s.NewBrowser(t)
	if p := b.Get("/healthz"); p.Status != http.StatusOK {
		t.Fatalf("/healthz: %s", p)
	}
	if p := b.Get("/metrics"); p.Status != http.StatusNotFound || strings.Contains(p.Body, "twofold_") {
		t.Errorf("/metrics on the main listener with metrics.listen set = %s\nwant 404 without metrics", p)
	}
	if s.MetricsURL == "" {
		t.Fatal("no metrics listener was opened for metrics.listen")
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	p := send(t, plain, http.MethodGet, s.MetricsURL+"/metrics", nil, nil)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `twofold_http_requests_total{code="200",route_class="ops"} 1`) ||
		!strings.Contains(p.Body, `twofold_http_requests_total{code="404",route_class="ops"} 1`) {
		t.Errorf("GET %s/metrics = %d, want 200 counting the main listener's /healthz and /metrics:\n%s", s.MetricsURL, p.Status, grepLines(p.Body, "twofold_http_requests_total"))
	}
	for _, path := range []string{"/healthz", "/readyz", "/.well-known/openid-configuration", "/admin/api/v1/clients"} {
		if p := send(t, plain, http.MethodGet, s.MetricsURL+path, nil, nil); p.Status != http.StatusNotFound {
			t.Errorf("GET %s on the metrics listener = %d, want 404 (it serves /metrics alone)", path, p.Status)
		}
	}
}

// A database outage is never the client's fault. With the database
// unreachable, a valid code exchange answers 503 temporarily_unavailable
// (not invalid_grant, after which a relying party throws the code away),
// and so do refresh, userinfo, introspection (not "active": false),
// discovery, the JWKS and the admin API; the sign-in and sign-out pages
// answer the "try again shortly" page; every answer says when to retry.
// Once the database is back, the same code is redeemed.
func TestSecurityDatabaseOutage(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		earlier := app.Login(s.NewBrowser(t), "alice", "alice-password")
		f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		code := f.Code()
		pending := app.Start(s.NewBrowser(t), nil) // on the password page
		id := pending.Page.Field("authRequestID")
		adm, _ := bootstrapAdmin(t, s)
		machine := newKeyClient(t, s, "client_credentials")

		down, up := func() { s.App.Store.Close() }, s.Restart
		if o.DatabaseURL != "" { // a real outage: the server refuses connections and ends ours
			down = func() { testkit.SetPostgresReachable(t, o.DatabaseURL, false) }
			up = func() { testkit.SetPostgresReachable(t, o.DatabaseURL, true) }
		}
		down()
		s.Clock.Advance(11 * time.Second) // past the signing keys' 10 s cache

		basic := func(form url.Values) (io.Reader, http.Header) {
			req, _ := http.NewRequest(http.MethodPost, "/", nil)
			req.SetBasicAuth(url.QueryEscape(app.ID), url.QueryEscape(app.Secret))
			return strings.NewReader(form.Encode()), req.Header
		}
		api := &http.Client{Transport: s.Transport()}
		protocol := map[string]func() *testkit.Page{
			"code exchange": func() *testkit.Page {
				body, h := basic(url.Values{"grant_type": {"authorization_code"}, "code": {code},
					"redirect_uri": {app.RedirectURI}, "code_verifier": {f.Verifier}})
				return send(t, api, http.MethodPost, s.URL+"/oauth/token", body, h)
			},
			"refresh": func() *testkit.Page {
				body, h := basic(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {earlier.RefreshToken}})
				return send(t, api, http.MethodPost, s.URL+"/oauth/token", body, h)
			},
			"introspection": func() *testkit.Page {
				body, h := basic(url.Values{"token": {earlier.AccessToken}})
				return send(t, api, http.MethodPost, s.URL+"/oauth/introspect", body, h)
			},
			"userinfo": func() *testkit.Page {
				return send(t, api, http.MethodGet, s.URL+"/userinfo", nil, http.Header{"Authorization": {"Bearer " + earlier.AccessToken}})
			},
			"discovery": func() *testkit.Page {
				return send(t, api, http.MethodGet, s.URL+"/.well-known/openid-configuration", nil, nil)
			},
			"jwks": func() *testkit.Page { return send(t, api, http.MethodGet, s.URL+"/keys", nil, nil) },
			"private_key_jwt client_credentials": func() *testkit.Page {
				form := machine.signed(t, url.Values{"grant_type": {"client_credentials"}})
				return send(t, api, http.MethodPost, s.URL+"/oauth/token", strings.NewReader(form.Encode()), nil)
			},
		}
		for name, call := range protocol {
			p := call()
			var e struct{ Error string }
			json.Unmarshal([]byte(p.Body), &e)
			if p.Status != http.StatusServiceUnavailable || e.Error != "temporarily_unavailable" || p.Header.Get("Retry-After") == "" {
				t.Errorf("%s with the database down = %s\nwant 503 temporarily_unavailable with Retry-After", name, p)
			}
		}

		p := send(t, api, http.MethodGet, s.URL+admin.Prefix+"/clients", nil, http.Header{"Authorization": {"Bearer " + adm.token}})
		var e struct{ Error struct{ Code string } }
		if json.Unmarshal([]byte(p.Body), &e); p.Status != http.StatusServiceUnavailable || e.Error.Code != "unavailable" || p.Header.Get("Retry-After") == "" {
			t.Errorf("the admin API with the database down = %s\nwant 503 unavailable with Retry-After", p)
		}

		b := pending.B
		pages := map[string]func() *testkit.Page{
			"login page": func() *testkit.Page { return b.Get("/login?authRequestID=" + url.QueryEscape(id)) },
			"password post": func() *testkit.Page {
				return pending.B.Post("/login/password", url.Values{"authRequestID": {id}, "username": {"alice"}, "password": {"alice-password"}})
			},
			"authorize": func() *testkit.Page { return app.Start(s.NewBrowser(t), nil).Page },
			"end_session": func() *testkit.Page {
				return f.B.Get("/end_session?client_id=" + url.QueryEscape(app.ID))
			},
		}
		for name, load := range pages {
			p := load()
			if p.Status != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" ||
				!strings.Contains(strings.ToLower(p.Body), "try again in a few seconds") || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s with the database down = %s\nwant the 503 \"try again shortly\" page with Retry-After", name, p)
			}
		}

		up()
		tokens, err := f.Exchange(code)
		if err != nil || tokens.IDTokenClaims.Subject == "" {
			t.Fatalf("the code tried during the outage, once the database is back: %v", err)
		}
		if p := b.Get("/login?authRequestID=" + url.QueryEscape(id)); p.Status != http.StatusOK || p.Field("authRequestID") != id {
			t.Errorf("the sign-in in progress, once the database is back: %s", p)
		}
	})
}
