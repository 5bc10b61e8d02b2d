package testkit

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/storage"
)

// Clock is a settable clock for tests: TTLs and expiry are checked by
// moving it, never by sleeping.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at the real time.
func NewClock() *Clock { return &Clock{now: time.Now().UTC()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// ServerOptions adjust NewServer.
type ServerOptions struct {
	// DatabaseURL defaults to a SQLite file in a temporary directory.
	DatabaseURL string
	// Configure changes the configuration before the server starts.
	Configure func(*config.Config)
	// Twilio and SMTP, when set, deliver codes through these fakes with the
	// real Twilio and SMTP clients.
	Twilio *FakeTwilio
	SMTP   *SMTPSink
}

// TwilioFrom is the sending number the test server is configured with.
const TwilioFrom = "+14155550199"

// Server is a running twofold over TLS on loopback, built exactly as
// `twofold serve` builds it.
type Server struct {
	URL   string // the issuer, https://127.0.0.1:port
	App   *server.App
	Clock *Clock
	Log   *LogBuffer
	// MetricsURL is http://host:port of the metrics.listen address, when
	// the configuration sets one ("127.0.0.1:0" picks a free port).
	MetricsURL string

	t      testing.TB
	cfg    config.Config
	addr   string
	cert   tls.Certificate
	pool   *http.Transport
	cancel context.CancelFunc
	done   chan struct{}
	proxy  http.Handler // set by NewCluster: the balancer's route to this replica
}

// LogBuffer collects the server's log lines so tests can search them.
type LogBuffer struct {
	mu  sync.Mutex
	buf []byte
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf = append(l.buf, p...)
	l.mu.Unlock()
	return len(p), nil
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// NewServer starts twofold for a test and stops it in t.Cleanup. Passwords
// use cheap argon2id parameters so tests stay fast.
func NewServer(t testing.TB, o ServerOptions) *Server {
	t.Helper()
	dir := t.TempDir()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS()
	addr := ts.Listener.Addr().String()
	cert := ts.TLS.Certificates[0]
	transport := ts.Client().Transport.(*http.Transport).Clone()
	ts.Close()

	cfg := config.Default()
	cfg.Issuer = "https://" + addr
	cfg.Listen = addr
	cfg.DataDir = dir
	cfg.SecretKey = "test-secret-key-0123456789abcdef-0123456789"
	cfg.Database.URL = o.DatabaseURL
	cfg.Password = config.Password{MemoryKiB: 64, Iterations: 1, Parallelism: 1, MaxConcurrent: 8, QueueTimeout: config.Duration(5 * time.Second), MinLength: 8}
	cfg.Shutdown.Delay = 0 // no load balancer to wait for; the shutdown tests set one
	if cfg.Database.URL == "" {
		cfg.Database.URL = "sqlite:" + filepath.Join(dir, "twofold.db")
	}
	if o.Twilio != nil {
		cfg.Twilio = config.Twilio{AccountSID: o.Twilio.AccountSID, AuthToken: o.Twilio.AuthToken,
			From: TwilioFrom, BaseURL: o.Twilio.URL, Timeout: config.Duration(2 * time.Second)}
	}
	if o.SMTP != nil {
		cfg.SMTP = config.SMTP{Host: o.SMTP.Host, Port: o.SMTP.Port, TLS: "starttls",
			From: "twofold@example.com", Timeout: config.Duration(2 * time.Second)}
	}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	s := &Server{URL: cfg.Issuer, Clock: NewClock(), Log: &LogBuffer{}, t: t, cfg: cfg, addr: addr, cert: cert, pool: transport}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	level := slog.LevelInfo
	if os.Getenv("TWOFOLD_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(s.Log, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	app, err := server.Open(ctx, s.cfg, log, server.Options{Now: s.Clock.Now, SMTPInsecureSkipVerify: true,
		DemoClient: &http.Client{Transport: s.pool, Timeout: 10 * time.Second}})
	if err != nil {
		s.t.Fatalf("open server: %v", err)
	}
	if err := app.Keys.EnsureKey(ctx); err != nil {
		s.t.Fatalf("signing key: %v", err)
	}
	handler, err := app.Handler()
	if err != nil {
		s.t.Fatalf("handler: %v", err)
	}
	var ln net.Listener
	for i := 0; ; i++ { // the port of a stopped server can take a moment to free
		ln, err = net.Listen("tcp", s.addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen %s: %v", s.addr, err)
	}
	ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{s.cert}})
	metricsLn, err := app.ListenMetrics()
	if err != nil {
		s.t.Fatalf("%v", err)
	}
	if metricsLn != nil {
		s.MetricsURL = "http://" + metricsLn.Addr().String()
	}
	s.App, s.cancel, s.done = app, cancel, make(chan struct{})
	// The background jobs run on Serve's context; leaving their statements
	// out of Store.Queries keeps a test's count to what its requests did.
	jobs := storage.WithoutCounting(ctx)
	go func() {
		defer close(s.done)
		if err := app.Serve(jobs, server.Listeners{Main: ln, Metrics: metricsLn}, handler); err != nil {
			s.t.Logf("server stopped: %v", err)
		}
		app.Close()
	}()
}

// BeginStop starts the graceful shutdown, as SIGTERM does, and returns a
// channel that is closed once the server has stopped and closed its store.
func (s *Server) BeginStop() <-chan struct{} {
	s.cancel()
	return s.done
}

// Stop shuts the server down gracefully and waits for it.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
}

// Restart stops the process-equivalent and starts a new one on the same
// address, database and secret: what survives is what a real restart keeps.
func (s *Server) Restart() {
	s.Stop()
	s.start()
}

// Transport returns a transport that trusts the server's certificate.
func (s *Server) Transport() *http.Transport { return s.pool.Clone() }

// UserSpec describes a test user.
type UserSpec struct {
	Username, Password string
	Email, Phone       string   // Email defaults to <username>@example.com
	Methods            []string // second-factor methods (sms, voice, email), the first preferred
	Locale             string   // the user's language (BCP 47), "" for none
}

// CreateUserWith adds a user with contact details and second-factor methods.
func (s *Server) CreateUserWith(t testing.TB, u UserSpec) string {
	t.Helper()
	ctx := context.Background()
	hash, err := s.App.Passwords().Hash(ctx, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email == "" {
		u.Email = u.Username + "@example.com"
	}
	now := s.Clock.Now()
	rec := &storage.User{ID: server.NewID(), Username: u.Username, Name: "Test " + u.Username, Email: u.Email,
		EmailVerified: true, Phone: u.Phone, PhoneVerified: u.Phone != "", Locale: u.Locale, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.App.Store.CreateUser(ctx, rec); err != nil {
		t.Fatalf("create user: %v", err)
	}
	var factors []storage.SecondFactor
	for i, name := range u.Methods {
		m := storage.Method(name) // test data: the test names a real method
		dest := u.Phone
		if m == storage.MethodEmail {
			dest = u.Email
		}
		factors = append(factors, storage.SecondFactor{ID: server.NewID(), UserID: rec.ID, Method: m,
			Destination: dest, Preferred: i == 0, VerifiedAt: &now, CreatedAt: now})
	}
	if err := s.App.Store.ReplaceSecondFactors(ctx, rec.ID, factors); err != nil {
		t.Fatalf("second factors: %v", err)
	}
	return rec.ID
}
