// Package config loads twofold's configuration: one YAML file with unknown
// keys rejected, then TWOFOLD_* environment overrides, then defaults, then
// Validate, which names every bad key and value at once.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole configuration. The yaml tags are the key names; the
// environment variable of a key is TWOFOLD_ + its dotted path in upper case
// with dots as underscores (see AllKeys).
type Config struct {
	Issuer         string   `yaml:"issuer" doc:"Public URL of the provider; the iss of every token."`
	Listen         string   `yaml:"listen" doc:"Address the HTTP server listens on."`
	Dev            bool     `yaml:"dev" doc:"Development mode: generated secret key, seeded demo user and client, codes printed to the log, cookies without Secure."`
	DataDir        string   `yaml:"data_dir" doc:"Directory for the SQLite database and, in development mode, the generated secret key."`
	SecretKey      string   `yaml:"secret_key" doc:"Master key (at least 32 bytes, e.g. openssl rand -base64 32). Encrypts signing keys and TOTP seeds, keys the hashes of client secrets, tokens and codes. Required outside development mode."`
	TrustedProxies []string `yaml:"trusted_proxies" doc:"CIDRs of reverse proxies whose X-Forwarded-For is believed (comma-separated in the environment)."`

	Database Database `yaml:"database"`
	Log      Log      `yaml:"log"`
	Tokens   Tokens   `yaml:"tokens"`
	Keys     Keys     `yaml:"keys"`
	Session  Session  `yaml:"session"`
	Password Password `yaml:"password"`
	OTP      OTP      `yaml:"otp"`
	Twilio   Twilio   `yaml:"twilio"`
	SMTP     SMTP     `yaml:"smtp"`
	Limits   Limits   `yaml:"limits"`
	Metrics  Metrics  `yaml:"metrics"`
	Shutdown Shutdown `yaml:"shutdown"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Enabled bool   `yaml:"enabled" doc:"Serve Prometheus metrics at GET /metrics (counts only: no users, destinations or addresses)."`
	Listen  string `yaml:"listen" doc:"Serve /metrics on this separate address (e.g. 127.0.0.1:9090) and not on the main listener; empty: the main listener serves it."`
}

// Shutdown configures the graceful stop on SIGTERM or SIGINT.
type Shutdown struct {
	Delay   Duration `yaml:"delay" doc:"After SIGTERM, how long to go on serving while /readyz answers 503, so that load balancers stop sending traffic first; 0 stops accepting at once."`
	Timeout Duration `yaml:"timeout" doc:"After the delay, how long requests in flight may take to finish before their connections are closed."`
}

// OTP configures one-time codes sent by SMS, voice call and email.
type OTP struct {
	Digits         int      `yaml:"digits" doc:"Length of one-time codes, 6 to 10."`
	TTL            Duration `yaml:"ttl" doc:"How long a code is valid."`
	MaxAttempts    int      `yaml:"max_attempts" doc:"Wrong guesses allowed per code; then a new code must be sent."`
	ResendCooldown Duration `yaml:"resend_cooldown" doc:"Wait before another code can be sent in the same sign-in."`
	MaxResends     int      `yaml:"max_resends" doc:"Codes that can be sent again (resend or another method) per sign-in."`
	SMSFallback    []string `yaml:"sms_fallback" doc:"Channels tried, in order, when a text cannot be sent (comma-separated in the environment; empty for none)."`
	VoiceFallback  []string `yaml:"voice_fallback" doc:"Channels tried, in order, when a call cannot be placed."`
}

// Twilio configures SMS and voice delivery.
type Twilio struct {
	AccountSID          string   `yaml:"account_sid" doc:"Twilio account SID (AC…)."`
	AuthToken           string   `yaml:"auth_token" doc:"Twilio auth token (or use api_key and api_secret)."`
	APIKey              string   `yaml:"api_key" doc:"Twilio API key SID (SK…), instead of the auth token."`
	APISecret           string   `yaml:"api_secret" doc:"Secret of the API key."`
	From                string   `yaml:"from" doc:"Sending phone number in E.164 (needed for voice; for SMS unless messaging_service_sid is set)."`
	MessagingServiceSID string   `yaml:"messaging_service_sid" doc:"Messaging Service SID (MG…) for SMS, instead of from."`
	BaseURL             string   `yaml:"base_url" doc:"Twilio API base URL (regional edges, tests)."`
	Timeout             Duration `yaml:"timeout" doc:"Time limit of one Twilio API call; past it the fallback channel is tried."`
}

// Enabled reports whether Twilio credentials are configured.
func (t Twilio) Enabled() bool { return t.AccountSID != "" }

// SMTP configures email delivery.
type SMTP struct {
	Host     string   `yaml:"host" doc:"SMTP server host; email delivery is off when empty."`
	Port     int      `yaml:"port" doc:"SMTP server port."`
	TLS      string   `yaml:"tls" doc:"starttls, tls (implicit TLS, usually port 465) or none."`
	Username string   `yaml:"username" doc:"SMTP user; authentication is used when set."`
	Password string   `yaml:"password" doc:"SMTP password."`
	From     string   `yaml:"from" doc:"Sender address of emails."`
	Timeout  Duration `yaml:"timeout" doc:"Time limit of one email delivery."`
}

// Limits are the abuse limits (login/guard): account backoff and lockout,
// per-IP failures, and the caps and budgets on sending codes. Send windows
// are fixed and named in the keys; a window starts at its first hit.
type Limits struct {
	BackoffAfter      int      `yaml:"backoff_after" doc:"Consecutive failures of one account (password and codes together) after which each attempt waits."`
	BackoffBase       Duration `yaml:"backoff_base" doc:"Wait after backoff_after failures, doubling with each further failure."`
	BackoffMax        Duration `yaml:"backoff_max" doc:"Cap of the doubling wait."`
	LockAfter         int      `yaml:"lock_after" doc:"Consecutive failures that lock the account until an admin unlocks it."`
	IPFailures        int      `yaml:"ip_failures" doc:"Failures from one IP (IPv6 per /64) within ip_window after which it gets 429 until the window ends."`
	IPWindow          Duration `yaml:"ip_window" doc:"Window of ip_failures."`
	DestinationPer10m int      `yaml:"destination_per_10m" doc:"Codes sent to one phone number or email address per 10 minutes."`
	DestinationPerDay int      `yaml:"destination_per_day" doc:"Codes sent to one phone number or email address per day."`
	IPSendsPer10m     int      `yaml:"ip_sends_per_10m" doc:"Codes sent at the request of one IP (IPv6 per /64) per 10 minutes."`
	SMSCountries      []string `yaml:"sms_countries" doc:"ISO 3166 regions SMS and voice codes may go to (comma-separated in the environment); * for any; empty: the region of twilio.from."`
	SMSCountryDaily   int      `yaml:"sms_country_daily" doc:"SMS per region per day, all users together (circuit breaker)."`
	SMSGlobalHourly   int      `yaml:"sms_global_hourly" doc:"SMS per hour, all regions together (circuit breaker)."`
	VoiceCountryDaily int      `yaml:"voice_country_daily" doc:"Voice calls per region per day (circuit breaker)."`
	VoiceGlobalHourly int      `yaml:"voice_global_hourly" doc:"Voice calls per hour, all regions together (circuit breaker)."`
}

// Database selects and tunes the store.
type Database struct {
	URL          string `yaml:"url" doc:"sqlite:/path/file.db or postgres://user:pass@host:5432/db?sslmode=…; default sqlite:<data_dir>/twofold.db."`
	MaxOpenConns int    `yaml:"max_open_conns" doc:"Connection pool size (PostgreSQL)."`
	AutoMigrate  bool   `yaml:"auto_migrate" doc:"serve applies pending migrations at start; set false to require twofold migrate."`
}

// Log configures the structured log.
type Log struct {
	Level  string `yaml:"level" doc:"debug, info, warn or error."`
	Format string `yaml:"format" doc:"text or json."`
}

// Tokens holds token and code lifetimes.
type Tokens struct {
	AccessTokenTTL  Duration `yaml:"access_token_ttl" doc:"Lifetime of access tokens."`
	IDTokenTTL      Duration `yaml:"id_token_ttl" doc:"Lifetime of ID tokens."`
	RefreshTokenTTL Duration `yaml:"refresh_token_ttl" doc:"Lifetime of a refresh token family from its first issue."`
	AuthCodeTTL     Duration `yaml:"auth_code_ttl" doc:"Lifetime of an authorization code."`
	LoginTTL        Duration `yaml:"login_ttl" doc:"How long a sign-in (an authorization request) may take."`
	// The reuse grace (Okta's and Auth0's reuse interval) keeps relying
	// parties that refresh from several processes at once signed in.
	RefreshReuseGrace       Duration `yaml:"refresh_reuse_grace" doc:"How long after a confidential client's refresh token was rotated the same client may present it again and get the refresh token already issued, instead of the grant being revoked as reuse; 0 turns it off."`
	RefreshReuseGracePublic Duration `yaml:"refresh_reuse_grace_public" doc:"The same for public clients, which do not authenticate their refreshes; 0 (off) unless set."`
	ClientAssertionLeeway   Duration `yaml:"client_assertion_leeway" doc:"Clock skew allowed on the iat, nbf and exp of private_key_jwt client assertions, either way."`
}

// Keys configures token signing keys.
type Keys struct {
	Algorithm      string   `yaml:"algorithm" doc:"RS256 or ES256: the signing algorithm of clients that name none (an RS256 and an ES256 key are always both kept and published)."`
	RSABits        int      `yaml:"rsa_bits" doc:"Size of new RSA signing keys: 2048 or 3072."`
	RotationPeriod Duration `yaml:"rotation_period" doc:"Age at which the signing keys are replaced automatically; 0 turns automatic rotation off."`
}

// Session configures the SSO session.
type Session struct {
	Lifetime   Duration `yaml:"lifetime" doc:"Lifetime of an SSO session."`
	CookieName string   `yaml:"cookie_name" doc:"Session cookie name; __Host-twofold_session outside development mode."`
}

// Password configures argon2id password hashing.
type Password struct {
	MemoryKiB     uint32   `yaml:"memory_kib" doc:"argon2id memory in KiB."`
	Iterations    uint32   `yaml:"iterations" doc:"argon2id passes."`
	Parallelism   uint8    `yaml:"parallelism" doc:"argon2id lanes."`
	MaxConcurrent int      `yaml:"max_concurrent" doc:"Password hashes computed at once; more wait in line."`
	QueueTimeout  Duration `yaml:"queue_timeout" doc:"How long a sign-in waits for a hashing slot before it is answered 429."`
	MinLength     int      `yaml:"min_length" doc:"Fewest characters of a new password (Unicode characters after NFKC normalisation), 8 to 64."`
}

// DefaultIssuer is the issuer when none is configured. In development mode
// Derive replaces it with the listen address's port (see devIssuer).
const DefaultIssuer = "http://localhost:8080"

// Default returns the configuration used for every key the file and the
// environment leave unset.
func Default() Config {
	return Config{
		Issuer:  DefaultIssuer,
		Listen:  "127.0.0.1:8080",
		DataDir: "data",
		Database: Database{
			MaxOpenConns: 20,
			AutoMigrate:  true,
		},
		Log: Log{Level: "info", Format: "text"},
		Tokens: Tokens{
			AccessTokenTTL:  Duration(5 * time.Minute),
			IDTokenTTL:      Duration(time.Hour),
			RefreshTokenTTL: Duration(30 * 24 * time.Hour),
			AuthCodeTTL:     Duration(60 * time.Second),
			LoginTTL:        Duration(30 * time.Minute),

			RefreshReuseGrace:     Duration(2 * time.Second),
			ClientAssertionLeeway: Duration(time.Minute),
		},
		Keys:    Keys{Algorithm: "RS256", RSABits: 2048, RotationPeriod: Duration(30 * 24 * time.Hour)},
		Session: Session{Lifetime: Duration(90 * 24 * time.Hour)},
		Password: Password{
			MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1,
			MaxConcurrent: 8, QueueTimeout: Duration(2 * time.Second), MinLength: 8,
		},
		OTP: OTP{
			Digits: 6, TTL: Duration(5 * time.Minute), MaxAttempts: 5,
			ResendCooldown: Duration(30 * time.Second), MaxResends: 3,
			SMSFallback: []string{"email"}, VoiceFallback: []string{"email"},
		},
		Twilio: Twilio{BaseURL: "https://api.twilio.com", Timeout: Duration(10 * time.Second)},
		SMTP:   SMTP{Port: 587, TLS: "starttls", Timeout: Duration(10 * time.Second)},
		Limits: Limits{
			BackoffAfter: 5, BackoffBase: Duration(30 * time.Second), BackoffMax: Duration(15 * time.Minute), LockAfter: 100,
			IPFailures: 50, IPWindow: Duration(10 * time.Minute),
			DestinationPer10m: 5, DestinationPerDay: 10, IPSendsPer10m: 20,
			SMSCountryDaily: 1000, SMSGlobalHourly: 200, VoiceCountryDaily: 100, VoiceGlobalHourly: 50,
		},
		Metrics:  Metrics{Enabled: true},
		Shutdown: Shutdown{Delay: Duration(5 * time.Second), Timeout: Duration(20 * time.Second)},
	}
}

// Load reads the YAML file at path (none when path is empty), applies the
// TWOFOLD_* variables from environ, fills derived defaults and validates.
// The error lists every problem at once: the keys of the file and the
// variables that do not parse, each with its key path and value, then what
// Validate finds in the keys that did.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	var errs []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		problems, err := decodeYAML(path, data, &cfg)
		if err != nil {
			// Nothing of the file applies: Validate would only add noise.
			return cfg, errors.Join(append([]error{err}, applyEnv(&cfg, environ)...)...)
		}
		errs = append(errs, problems...)
	}
	errs = append(errs, applyEnv(&cfg, environ)...)
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return cfg, errors.Join(errs...)
}

// Derive sets the defaults that depend on other keys; Load calls it, and
// code that builds a Config by hand must too.
func (c *Config) Derive() {
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	if c.Dev && c.Issuer == DefaultIssuer {
		if iss, ok := devIssuer(c.Listen); ok {
			c.Issuer = iss
		}
	}
	if c.Database.URL == "" {
		c.Database.URL = "sqlite:" + filepath.Join(c.DataDir, "twofold.db")
	}
	if c.Session.CookieName == "" {
		c.Session.CookieName = "__Host-twofold_session"
		if c.Dev {
			c.Session.CookieName = "twofold_session"
		}
	}
}

// devIssuer is the issuer development mode derives from the listen
// address, so that `TWOFOLD_LISTEN=127.0.0.1:18081 twofold serve --dev`
// sends browsers to the port it listens on: http://localhost:PORT for a
// loopback or wildcard address, http://HOST:PORT otherwise. A port 0 (any
// free port) names nothing a browser can reach.
func devIssuer(listen string) (string, bool) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" || port == "0" {
		return "", false
	}
	if ip := net.ParseIP(host); host == "" || isLoopbackHost(host) || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port), true
}

// Validate checks every key and returns all problems joined, each naming the
// key and the offending value.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("issuer", "must be an absolute http(s) URL without query or fragment (got %q)", c.Issuer)
	} else if u.Scheme == "http" && !c.Dev && !isLoopbackHost(u.Hostname()) {
		bad("issuer", "must use https outside development mode (got %q)", c.Issuer)
	}
	if c.Listen == "" {
		bad("listen", "must be host:port (got %q)", c.Listen)
	}
	if !strings.HasPrefix(c.Database.URL, "postgres://") && !strings.HasPrefix(c.Database.URL, "postgresql://") && !strings.HasPrefix(c.Database.URL, "sqlite:") {
		bad("database.url", "must be postgres:// or sqlite: (got %q)", redactURL(c.Database.URL))
	}
	if c.Database.MaxOpenConns < 1 {
		bad("database.max_open_conns", "must be at least 1 (got %d)", c.Database.MaxOpenConns)
	}
	if !c.Dev && c.SecretKey == "" {
		bad("secret_key", "is required outside development mode (generate one with: openssl rand -base64 32)")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		bad("secret_key", "must be at least 32 bytes (got %d)", len(c.SecretKey))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error (got %q)", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "must be text or json (got %q)", c.Log.Format)
	}
	positive := map[string]Duration{
		"tokens.access_token_ttl": c.Tokens.AccessTokenTTL, "tokens.id_token_ttl": c.Tokens.IDTokenTTL,
		"tokens.refresh_token_ttl": c.Tokens.RefreshTokenTTL, "tokens.auth_code_ttl": c.Tokens.AuthCodeTTL,
		"tokens.login_ttl": c.Tokens.LoginTTL, "session.lifetime": c.Session.Lifetime,
		"password.queue_timeout": c.Password.QueueTimeout,
	}
	for _, key := range sortedKeys(positive) {
		if positive[key] <= 0 {
			bad(key, "must be a positive duration (got %s)", positive[key])
		}
	}
	if c.Keys.Algorithm != "RS256" && c.Keys.Algorithm != "ES256" {
		bad("keys.algorithm", "must be RS256 or ES256 (got %q)", c.Keys.Algorithm)
	}
	for key, d := range map[string]Duration{"tokens.refresh_reuse_grace": c.Tokens.RefreshReuseGrace, "tokens.refresh_reuse_grace_public": c.Tokens.RefreshReuseGracePublic} {
		if d < 0 || d > Duration(time.Minute) {
			bad(key, "must be 0 (off) to 1m (got %s)", d)
		}
	}
	if l := c.Tokens.ClientAssertionLeeway; l < 0 || l > Duration(5*time.Minute) {
		bad("tokens.client_assertion_leeway", "must be 0 to 5m (got %s)", l)
	}
	if c.Keys.RSABits != 2048 && c.Keys.RSABits != 3072 {
		bad("keys.rsa_bits", "must be 2048 or 3072 (got %d)", c.Keys.RSABits)
	}
	if c.Keys.RotationPeriod < 0 {
		bad("keys.rotation_period", "must be 0 (off) or a positive duration (got %s)", c.Keys.RotationPeriod)
	}
	if c.Password.MemoryKiB < 8 || c.Password.Iterations < 1 || c.Password.Parallelism < 1 {
		bad("password", "memory_kib must be ≥ 8, iterations ≥ 1 and parallelism ≥ 1 (got %d, %d, %d)", c.Password.MemoryKiB, c.Password.Iterations, c.Password.Parallelism)
	}
	if c.Password.MaxConcurrent < 1 {
		bad("password.max_concurrent", "must be at least 1 (got %d)", c.Password.MaxConcurrent)
	}
	if c.Password.MinLength < 8 || c.Password.MinLength > 64 {
		bad("password.min_length", "must be 8 to 64 (got %d)", c.Password.MinLength)
	}
	errs = append(errs, c.validateDelivery()...)
	errs = append(errs, c.validateLimits()...)
	errs = append(errs, c.validateServing()...)
	for _, cidr := range c.TrustedProxies {
		if _, err := parsePrefix(cidr); err != nil {
			bad("trusted_proxies", "%q is not a CIDR", cidr)
		}
	}
	return errors.Join(errs...)
}

// IsPostgres reports whether the database URL names PostgreSQL.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.Database.URL, "postgres")
}

// redactURL hides a password in a database URL so messages can show the rest.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		// A '#', '/' or '%' in the password breaks parsing or moves the
		// credentials out of the user info: hide all before the last '@'.
		if at := strings.LastIndex(raw, "@"); at >= 0 {
			scheme, _, _ := strings.Cut(raw[:at], ":")
			raw = scheme + "://xxxxx" + raw[at:]
		}
		if len(raw) > 80 {
			return raw[:80] + "…"
		}
		return raw
	}
	return u.Redacted()
}

// validateDelivery checks the one-time-code, Twilio and SMTP keys.
func (c *Config) validateDelivery() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if c.OTP.Digits < 6 || c.OTP.Digits > 10 {
		bad("otp.digits", "must be 6 to 10 (got %d)", c.OTP.Digits)
	}
	if c.OTP.TTL <= 0 || c.OTP.TTL > Duration(time.Hour) {
		bad("otp.ttl", "must be positive and at most 1h (got %s)", c.OTP.TTL)
	}
	if c.OTP.MaxAttempts < 1 || c.OTP.MaxAttempts > 20 {
		bad("otp.max_attempts", "must be 1 to 20 (got %d)", c.OTP.MaxAttempts)
	}
	if c.OTP.ResendCooldown < 0 {
		bad("otp.resend_cooldown", "must not be negative (got %s)", c.OTP.ResendCooldown)
	}
	if c.OTP.MaxResends < 0 {
		bad("otp.max_resends", "must not be negative (got %d)", c.OTP.MaxResends)
	}
	for key, list := range map[string][]string{"otp.sms_fallback": c.OTP.SMSFallback, "otp.voice_fallback": c.OTP.VoiceFallback} {
		for _, ch := range list {
			if ch != "sms" && ch != "voice" && ch != "email" {
				bad(key, "channels are sms, voice or email (got %q)", ch)
			}
		}
	}
	if c.Twilio.Enabled() {
		if c.Twilio.AuthToken == "" && (c.Twilio.APIKey == "" || c.Twilio.APISecret == "") {
			bad("twilio.auth_token", "is required with twilio.account_sid (or twilio.api_key and twilio.api_secret)")
		}
		if c.Twilio.From == "" && c.Twilio.MessagingServiceSID == "" {
			bad("twilio.from", "is required with twilio.account_sid (or twilio.messaging_service_sid for SMS)")
		}
		if u, err := url.Parse(c.Twilio.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("twilio.base_url", "must be an absolute http(s) URL (got %q)", c.Twilio.BaseURL)
		}
	}
	if c.Twilio.Timeout <= 0 {
		bad("twilio.timeout", "must be a positive duration (got %s)", c.Twilio.Timeout)
	}
	if c.SMTP.Host != "" {
		if c.SMTP.From == "" {
			bad("smtp.from", "is required with smtp.host: the sender address, like \"Example Sign-in <signin@example.com>\" or signin@example.com")
		} else if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
			bad("smtp.from", "must be one email address, like \"Example Sign-in <signin@example.com>\" or signin@example.com, with the name in quotes if it has a comma or other punctuation (got %q)", c.SMTP.From)
		}
		if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
			bad("smtp.port", "must be 1 to 65535 (got %d)", c.SMTP.Port)
		}
		if c.SMTP.TLS == "none" && c.SMTP.Username != "" {
			bad("smtp.tls", "none would send the SMTP password in clear text; use starttls or tls")
		}
	}
	if c.SMTP.TLS != "starttls" && c.SMTP.TLS != "tls" && c.SMTP.TLS != "none" {
		bad("smtp.tls", "must be starttls, tls or none (got %q)", c.SMTP.TLS)
	}
	if c.SMTP.Timeout <= 0 {
		bad("smtp.timeout", "must be a positive duration (got %s)", c.SMTP.Timeout)
	}
	return errs
}

// validateLimits checks the abuse limits.
func (c *Config) validateLimits() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	l := c.Limits
	atLeastOne := map[string]int{
		"limits.backoff_after": l.BackoffAfter, "limits.ip_failures": l.IPFailures,
		"limits.destination_per_10m": l.DestinationPer10m, "limits.destination_per_day": l.DestinationPerDay,
		"limits.ip_sends_per_10m":  l.IPSendsPer10m,
		"limits.sms_country_daily": l.SMSCountryDaily, "limits.sms_global_hourly": l.SMSGlobalHourly,
		"limits.voice_country_daily": l.VoiceCountryDaily, "limits.voice_global_hourly": l.VoiceGlobalHourly,
	}
	for _, key := range sortedKeys(atLeastOne) {
		if atLeastOne[key] < 1 {
			bad(key, "must be at least 1 (got %d)", atLeastOne[key])
		}
	}
	if l.LockAfter < l.BackoffAfter || l.LockAfter < 1 {
		bad("limits.lock_after", "must be at least 1 and at least limits.backoff_after (got %d)", l.LockAfter)
	}
	if l.BackoffBase <= 0 {
		bad("limits.backoff_base", "must be a positive duration (got %s)", l.BackoffBase)
	}
	if l.BackoffMax < l.BackoffBase {
		bad("limits.backoff_max", "must be at least limits.backoff_base (got %s)", l.BackoffMax)
	}
	if l.IPWindow <= 0 || l.IPWindow > Duration(24*time.Hour) {
		bad("limits.ip_window", "must be positive and at most 24h (got %s)", l.IPWindow)
	}
	for _, r := range l.SMSCountries {
		if r != "*" && !isRegion(r) {
			bad("limits.sms_countries", "%q is not an ISO 3166 region code such as US or GB, nor *", r)
		}
	}
	if c.Twilio.Enabled() && c.Twilio.From == "" && len(l.SMSCountries) == 0 {
		bad("limits.sms_countries", "is required when twilio.from is empty (it defaults to the region of twilio.from); list regions, or * for any")
	}
	return errs
}

// maxShutdownWait bounds shutdown.delay and shutdown.timeout: a longer
// wait is a typo ("5h"), and would hold a rollout for as long.
const maxShutdownWait = 10 * time.Minute

// validateServing checks the metrics listener and the shutdown waits.
func (c *Config) validateServing() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if l := c.Metrics.Listen; l != "" {
		if _, port, err := net.SplitHostPort(l); err != nil || port == "" {
			bad("metrics.listen", "must be host:port, e.g. 127.0.0.1:9090 (got %q)", l)
		} else if l == c.Listen {
			bad("metrics.listen", "must differ from listen (got %q for both); leave it empty to serve /metrics on the main listener", l)
		}
	}
	if d := c.Shutdown.Delay; d < 0 || d > Duration(maxShutdownWait) {
		bad("shutdown.delay", "must be 0 to %s (got %s)", Duration(maxShutdownWait), d)
	}
	if d := c.Shutdown.Timeout; d <= 0 || d > Duration(maxShutdownWait) {
		bad("shutdown.timeout", "must be positive and at most %s (got %s)", Duration(maxShutdownWait), d)
	}
	return errs
}

// isRegion reports whether s is two ASCII letters.
func isRegion(s string) bool {
	return len(s) == 2 && strings.IndexFunc(strings.ToUpper(s), func(r rune) bool { return r < 'A' || r > 'Z' }) < 0
}
