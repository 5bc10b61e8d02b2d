package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/config"
)

// goodKey is a secret_key long enough for Validate.
const goodKey = "0123456789abcdef0123456789abcdef"

// writeFile writes a YAML file into a temporary directory and returns its path.
func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "twofold.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// errText returns err's message, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestLoadDefaults(t *testing.T) {
	t.Run("dev", func(t *testing.T) {
		cfg, err := config.Load("", []string{"TWOFOLD_DEV=true"})
		if err != nil {
			t.Fatalf("Load in dev: %v", err)
		}
		want := config.Default()
		want.Dev = true
		want.Derive()
		if cfg.Issuer != want.Issuer || cfg.Listen != want.Listen || cfg.Keys != want.Keys || cfg.Tokens != want.Tokens {
			t.Errorf("Load in dev = %+v, want the defaults %+v", cfg, want)
		}
		if cfg.Database.URL != "sqlite:"+filepath.Join("data", "twofold.db") {
			t.Errorf("database.url = %q, want the SQLite file in data_dir", cfg.Database.URL)
		}
		if !cfg.Metrics.Enabled || cfg.Metrics.Listen != "" {
			t.Errorf("metrics = %+v, want enabled on the main listener", cfg.Metrics)
		}
		if cfg.Shutdown != (config.Shutdown{Delay: config.Duration(5 * time.Second), Timeout: config.Duration(20 * time.Second)}) {
			t.Errorf("shutdown = %+v, want a 5s delay and a 20s timeout", cfg.Shutdown)
		}
		if cfg.Session.CookieName != "twofold_session" {
			t.Errorf("session.cookie_name in dev = %q, want twofold_session (no __Host- without https)", cfg.Session.CookieName)
		}
	})
	t.Run("production needs secret_key", func(t *testing.T) {
		_, err := config.Load("", nil)
		if !strings.Contains(errText(err), "secret_key: is required") {
			t.Fatalf("Load without dev = %v, want an error naming secret_key", err)
		}
	})
	t.Run("production with secret_key", func(t *testing.T) {
		cfg, err := config.Load("", []string{"TWOFOLD_SECRET_KEY=" + goodKey})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if cfg.Session.CookieName != "__Host-twofold_session" {
			t.Errorf("session.cookie_name = %q, want __Host-twofold_session", cfg.Session.CookieName)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"), []string{"TWOFOLD_DEV=true"})
		if !strings.Contains(errText(err), "nope.yaml") {
			t.Fatalf("Load of a missing file = %v, want an error naming it", err)
		}
	})
}

func TestLoadYAMLEverySection(t *testing.T) {
	path := writeFile(t, `
issuer: https://id.example.com/
listen: 0.0.0.0:9000
dev: false
data_dir: /var/lib/twofold
secret_key: `+goodKey+`
trusted_proxies: [10.0.0.0/8, "::1"]
database:
  url: postgres://twofold:hunter2@db:5432/twofold?sslmode=disable
  max_open_conns: 7
  auto_migrate: false
log:
  level: debug
  format: json
tokens:
  access_token_ttl: 10m
  id_token_ttl: 2h
  refresh_token_ttl: 14d
  auth_code_ttl: 30s
  login_ttl: 15m
keys:
  algorithm: ES256
  rotation_period: 0s
session:
  lifetime: 7d
  cookie_name: sid
password:
  memory_kib: 65536
  iterations: 3
  parallelism: 4
  max_concurrent: 2
  queue_timeout: 500ms
otp:
  digits: 8
  ttl: 10m
  max_attempts: 3
  resend_cooldown: 1m
  max_resends: 2
  sms_fallback: [voice, email]
  voice_fallback: []
twilio:
  account_sid: ACxxxxxxxx
  auth_token: tok
  from: "+14155550100"
  timeout: 5s
smtp:
  host: smtp.example.com
  port: 465
  tls: tls
  username: mailer
  password: secret
  from: id@example.com
  timeout: 3s
metrics:
  enabled: false
  listen: 127.0.0.1:9090
shutdown:
  delay: 15s
  timeout: 1m
`)
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"issuer", cfg.Issuer, "https://id.example.com"}, // trailing slash trimmed
		{"listen", cfg.Listen, "0.0.0.0:9000"},
		{"data_dir", cfg.DataDir, "/var/lib/twofold"},
		{"trusted_proxies", strings.Join(cfg.TrustedProxies, ","), "10.0.0.0/8,::1"},
		{"database.url", cfg.Database.URL, "postgres://twofold:hunter2@db:5432/twofold?sslmode=disable"},
		{"database.max_open_conns", cfg.Database.MaxOpenConns, 7},
		{"database.auto_migrate", cfg.Database.AutoMigrate, false},
		{"log.level", cfg.Log.Level, "debug"},
		{"log.format", cfg.Log.Format, "json"},
		{"tokens.access_token_ttl", cfg.Tokens.AccessTokenTTL.D(), 10 * time.Minute},
		{"tokens.id_token_ttl", cfg.Tokens.IDTokenTTL.D(), 2 * time.Hour},
		{"tokens.refresh_token_ttl", cfg.Tokens.RefreshTokenTTL.D(), 14 * 24 * time.Hour},
		{"tokens.auth_code_ttl", cfg.Tokens.AuthCodeTTL.D(), 30 * time.Second},
		{"tokens.login_ttl", cfg.Tokens.LoginTTL.D(), 15 * time.Minute},
		{"keys.algorithm", cfg.Keys.Algorithm, "ES256"},
		{"keys.rotation_period", cfg.Keys.RotationPeriod.D(), time.Duration(0)},
		{"session.lifetime", cfg.Session.Lifetime.D(), 7 * 24 * time.Hour},
		{"session.cookie_name", cfg.Session.CookieName, "sid"},
		{"password.memory_kib", cfg.Password.MemoryKiB, uint32(65536)},
		{"password.iterations", cfg.Password.Iterations, uint32(3)},
		{"password.parallelism", cfg.Password.Parallelism, uint8(4)},
		{"password.max_concurrent", cfg.Password.MaxConcurrent, 2},
		{"password.queue_timeout", cfg.Password.QueueTimeout.D(), 500 * time.Millisecond},
		{"otp.digits", cfg.OTP.Digits, 8},
		{"otp.ttl", cfg.OTP.TTL.D(), 10 * time.Minute},
		{"otp.sms_fallback", strings.Join(cfg.OTP.SMSFallback, ","), "voice,email"},
		{"otp.voice_fallback", len(cfg.OTP.VoiceFallback), 0},
		{"twilio.from", cfg.Twilio.From, "+14155550100"},
		{"twilio.timeout", cfg.Twilio.Timeout.D(), 5 * time.Second},
		{"smtp.port", cfg.SMTP.Port, 465},
		{"smtp.tls", cfg.SMTP.TLS, "tls"},
		{"metrics.enabled", cfg.Metrics.Enabled, false},
		{"metrics.listen", cfg.Metrics.Listen, "127.0.0.1:9090"},
		{"shutdown.delay", cfg.Shutdown.Delay.D(), 15 * time.Second},
		{"shutdown.timeout", cfg.Shutdown.Timeout.D(), time.Minute},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v (%T), want %v (%T)", c.key, c.got, c.got, c.want, c.want)
		}
	}
	if !cfg.IsPostgres() {
		t.Error("IsPostgres() = false for a postgres:// URL")
	}
	if got := len(cfg.TrustedPrefixes()); got != 2 {
		t.Errorf("TrustedPrefixes() has %d prefixes, want 2", got)
	}
}

func TestLoadYAMLErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level key", "dev: true\nissuerr: https://x.example\n", []string{"issuerr"}},
		{"unknown nested key", "dev: true\ndatabase:\n  uri: sqlite:x.db\n", []string{"uri"}},
		{"bad duration", "dev: true\ntokens:\n  access_token_ttl: 5 minutes\n", []string{"5 minutes"}},
		{"wrong type", "dev: true\ndatabase:\n  max_open_conns: many\n", []string{"many"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.yaml)
			_, err := config.Load(path, nil)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	t.Run("empty file", func(t *testing.T) {
		if _, err := config.Load(writeFile(t, ""), []string{"TWOFOLD_DEV=true"}); err != nil {
			t.Fatalf("Load of an empty file: %v", err)
		}
	})
}

func TestEnvOverrides(t *testing.T) {
	tests := []struct {
		env   string
		check func(config.Config) any
		want  any
	}{
		{"TWOFOLD_ISSUER=https://login.example.org", func(c config.Config) any { return c.Issuer }, "https://login.example.org"},
		{"TWOFOLD_DATABASE_URL=sqlite:/tmp/x.db", func(c config.Config) any { return c.Database.URL }, "sqlite:/tmp/x.db"},
		{"TWOFOLD_DATABASE_AUTO_MIGRATE=false", func(c config.Config) any { return c.Database.AutoMigrate }, false},
		{"TWOFOLD_DATABASE_MAX_OPEN_CONNS=3", func(c config.Config) any { return c.Database.MaxOpenConns }, 3},
		{"TWOFOLD_PASSWORD_MEMORY_KIB=64", func(c config.Config) any { return c.Password.MemoryKiB }, uint32(64)},
		{"TWOFOLD_PASSWORD_PARALLELISM=2", func(c config.Config) any { return c.Password.Parallelism }, uint8(2)},
		{"TWOFOLD_SESSION_LIFETIME=90d", func(c config.Config) any { return c.Session.Lifetime.D() }, 90 * 24 * time.Hour},
		{"TWOFOLD_TOKENS_ACCESS_TOKEN_TTL=5m", func(c config.Config) any { return c.Tokens.AccessTokenTTL.D() }, 5 * time.Minute},
		{"TWOFOLD_TRUSTED_PROXIES=10.0.0.0/8,::1", func(c config.Config) any { return strings.Join(c.TrustedProxies, "|") }, "10.0.0.0/8|::1"},
		{"TWOFOLD_TRUSTED_PROXIES= 10.0.0.0/8 , ,::1", func(c config.Config) any { return strings.Join(c.TrustedProxies, "|") }, "10.0.0.0/8|::1"},
		{"TWOFOLD_OTP_SMS_FALLBACK=", func(c config.Config) any { return len(c.OTP.SMSFallback) }, 0},
		{"TWOFOLD_SESSION_COOKIE_NAME=sid", func(c config.Config) any { return c.Session.CookieName }, "sid"},
		{"TWOFOLD_METRICS_ENABLED=false", func(c config.Config) any { return c.Metrics.Enabled }, false},
		{"TWOFOLD_METRICS_ENABLED=true", func(c config.Config) any { return c.Metrics.Enabled }, true},
		{"TWOFOLD_METRICS_LISTEN=127.0.0.1:9090", func(c config.Config) any { return c.Metrics.Listen }, "127.0.0.1:9090"},
		{"TWOFOLD_SHUTDOWN_DELAY=0s", func(c config.Config) any { return c.Shutdown.Delay.D() }, time.Duration(0)},
		{"TWOFOLD_SHUTDOWN_TIMEOUT=45s", func(c config.Config) any { return c.Shutdown.Timeout.D() }, 45 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			cfg, err := config.Load("", []string{"TWOFOLD_DEV=true", tt.env, "UNRELATED=1", "TWOFOLD_NOT_A_KEY=x"})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := tt.check(cfg); got != tt.want {
				t.Errorf("got %v (%T), want %v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
	t.Run("environment beats the file", func(t *testing.T) {
		path := writeFile(t, "dev: true\nlog:\n  level: debug\n")
		cfg, err := config.Load(path, []string{"TWOFOLD_LOG_LEVEL=warn"})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Log.Level != "warn" || !cfg.Dev {
			t.Errorf("log.level = %q, dev = %v; want warn from the environment, dev from the file", cfg.Log.Level, cfg.Dev)
		}
	})
}

func TestEnvErrors(t *testing.T) {
	tests := []struct{ env, key string }{
		{"TWOFOLD_DEV=maybe", "dev (from TWOFOLD_DEV)"},
		{"TWOFOLD_DATABASE_MAX_OPEN_CONNS=ten", "database.max_open_conns (from TWOFOLD_DATABASE_MAX_OPEN_CONNS)"},
		{"TWOFOLD_PASSWORD_PARALLELISM=300", "password.parallelism (from TWOFOLD_PASSWORD_PARALLELISM)"},
		{"TWOFOLD_PASSWORD_MEMORY_KIB=-1", "password.memory_kib (from TWOFOLD_PASSWORD_MEMORY_KIB)"},
		{"TWOFOLD_TOKENS_ACCESS_TOKEN_TTL=5 minutes", "tokens.access_token_ttl (from TWOFOLD_TOKENS_ACCESS_TOKEN_TTL)"},
		{"TWOFOLD_SESSION_LIFETIME=-3d", "session.lifetime (from TWOFOLD_SESSION_LIFETIME)"},
		{"TWOFOLD_METRICS_ENABLED=yes please", "metrics.enabled (from TWOFOLD_METRICS_ENABLED)"},
		{"TWOFOLD_SHUTDOWN_DELAY=5 seconds", "shutdown.delay (from TWOFOLD_SHUTDOWN_DELAY)"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			_, err := config.Load("", []string{"TWOFOLD_DEV=true", tt.env})
			if !strings.Contains(errText(err), tt.key) {
				t.Fatalf("Load = %v, want an error naming %q", err, tt.key)
			}
			_, value, _ := strings.Cut(tt.env, "=")
			if !strings.Contains(err.Error(), value) {
				t.Errorf("error %q does not show the value %q", err, value)
			}
		})
	}
	t.Run("all bad variables at once", func(t *testing.T) {
		_, err := config.Load("", []string{"TWOFOLD_DEV=true", "TWOFOLD_LOG_LEVEL=loud", "TWOFOLD_DATABASE_AUTO_MIGRATE=sometimes", "TWOFOLD_OTP_DIGITS=six"})
		for _, key := range []string{"TWOFOLD_DATABASE_AUTO_MIGRATE", "TWOFOLD_OTP_DIGITS"} {
			if !strings.Contains(errText(err), key) {
				t.Errorf("error %v does not name %s", err, key)
			}
		}
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		want   string   // a message Validate must produce
		absent []string // text that must not appear (secrets)
	}{
		{name: "issuer not a URL", env: []string{"TWOFOLD_ISSUER=id.example.com"},
			want: `issuer: must be an absolute http(s) URL without query or fragment (got "id.example.com")`},
		{name: "issuer with query", env: []string{"TWOFOLD_ISSUER=https://id.example.com?x=1"},
			want: `issuer: must be an absolute http(s) URL`},
		{name: "issuer http outside dev", env: []string{"TWOFOLD_DEV=false", "TWOFOLD_SECRET_KEY=" + goodKey, "TWOFOLD_ISSUER=http://id.example.com"},
			want: `issuer: must use https outside development mode (got "http://id.example.com")`},
		{name: "database.url mysql, password redacted", env: []string{"TWOFOLD_DATABASE_URL=mysql://root:hunter2@db:3306/twofold"},
			want:   `database.url: must be postgres:// or sqlite: (got "mysql://root:xxxxx@db:3306/twofold")`,
			absent: []string{"hunter2"}},
		{name: "database.url unparsable, password redacted", env: []string{"TWOFOLD_DATABASE_URL=mysql://root:pa#ss@db/twofold"},
			want:   `database.url: must be postgres:// or sqlite:`,
			absent: []string{"pa#ss"}},
		{name: "database.url parsed without user info, password redacted", env: []string{"TWOFOLD_DATABASE_URL=mysql://root:12#ss@db/twofold"},
			want:   `database.url: must be postgres:// or sqlite: (got "mysql://xxxxx@db/twofold")`,
			absent: []string{"12#ss"}},
		{name: "secret_key too short", env: []string{"TWOFOLD_SECRET_KEY=short"},
			want: `secret_key: must be at least 32 bytes (got 5)`, absent: []string{"short"}},
		{name: "log.level", env: []string{"TWOFOLD_LOG_LEVEL=verbose"},
			want: `log.level: must be debug, info, warn or error (got "verbose")`},
		{name: "log.format", env: []string{"TWOFOLD_LOG_FORMAT=xml"},
			want: `log.format: must be text or json (got "xml")`},
		{name: "keys.algorithm", env: []string{"TWOFOLD_KEYS_ALGORITHM=HS256"},
			want: `keys.algorithm: must be RS256 or ES256 (got "HS256")`},
		{name: "tokens.refresh_reuse_grace", env: []string{"TWOFOLD_TOKENS_REFRESH_REUSE_GRACE=5m"},
			want: `tokens.refresh_reuse_grace: must be 0 (off) to 1m (got 5m)`},
		{name: "tokens.refresh_reuse_grace_public", env: []string{"TWOFOLD_TOKENS_REFRESH_REUSE_GRACE_PUBLIC=-1s"},
			want: `tokens.refresh_reuse_grace_public: must be 0 (off) to 1m (got -1s)`},
		{name: "tokens.client_assertion_leeway", env: []string{"TWOFOLD_TOKENS_CLIENT_ASSERTION_LEEWAY=1h"},
			want: `tokens.client_assertion_leeway: must be 0 to 5m (got 1h)`},
		{name: "keys.rsa_bits", env: []string{"TWOFOLD_KEYS_RSA_BITS=1024"},
			want: `keys.rsa_bits: must be 2048 or 3072 (got 1024)`},
		{name: "negative token ttl", env: []string{"TWOFOLD_TOKENS_ACCESS_TOKEN_TTL=-5m"},
			want: `tokens.access_token_ttl: must be a positive duration (got -5m)`},
		{name: "zero session lifetime", env: []string{"TWOFOLD_SESSION_LIFETIME=0s"},
			want: `session.lifetime: must be a positive duration (got 0s)`},
		{name: "negative rotation period", env: []string{"TWOFOLD_KEYS_ROTATION_PERIOD=-1h"},
			want: `keys.rotation_period: must be 0 (off) or a positive duration (got -1h)`},
		{name: "bad CIDR", env: []string{"TWOFOLD_TRUSTED_PROXIES=10.0.0.0/8,10.0.0.0/33"},
			want: `trusted_proxies: "10.0.0.0/33" is not a CIDR`},
		{name: "weak argon2", env: []string{"TWOFOLD_PASSWORD_ITERATIONS=0"},
			want: `password: memory_kib must be ≥ 8, iterations ≥ 1`},
		{name: "short password minimum", env: []string{"TWOFOLD_PASSWORD_MIN_LENGTH=6"},
			want: `password.min_length: must be 8 to 64 (got 6)`},
		{name: "metrics.listen without a port", env: []string{"TWOFOLD_METRICS_LISTEN=127.0.0.1"},
			want: `metrics.listen: must be host:port, e.g. 127.0.0.1:9090 (got "127.0.0.1")`},
		{name: "metrics.listen on the main listener", env: []string{"TWOFOLD_LISTEN=127.0.0.1:8080", "TWOFOLD_METRICS_LISTEN=127.0.0.1:8080"},
			want: `metrics.listen: must differ from listen (got "127.0.0.1:8080" for both)`},
		{name: "negative shutdown delay", env: []string{"TWOFOLD_SHUTDOWN_DELAY=-1s"},
			want: `shutdown.delay: must be 0 to 10m (got -1s)`},
		{name: "shutdown delay in hours", env: []string{"TWOFOLD_SHUTDOWN_DELAY=5h"},
			want: `shutdown.delay: must be 0 to 10m (got 5h)`},
		{name: "zero shutdown timeout", env: []string{"TWOFOLD_SHUTDOWN_TIMEOUT=0s"},
			want: `shutdown.timeout: must be positive and at most 10m (got 0s)`},
		{name: "smtp.from missing", env: []string{"TWOFOLD_SMTP_HOST=smtp.example.com"},
			want: `smtp.from: is required with smtp.host: the sender address, like "Example Sign-in <signin@example.com>" or signin@example.com`},
		{name: "smtp.from not an address", env: []string{"TWOFOLD_SMTP_HOST=smtp.example.com", "TWOFOLD_SMTP_FROM=Example Sign-in"},
			want: `smtp.from: must be one email address, like "Example Sign-in <signin@example.com>" or signin@example.com, with the name in quotes if it has a comma or other punctuation (got "Example Sign-in")`},
		{name: "smtp.from with an unquoted comma", env: []string{"TWOFOLD_SMTP_HOST=smtp.example.com", "TWOFOLD_SMTP_FROM=Example, Inc. <signin@example.com>"},
			want: `smtp.from: must be one email address`},
		{name: "shutdown timeout in days", env: []string{"TWOFOLD_SHUTDOWN_TIMEOUT=1d"},
			want: `shutdown.timeout: must be positive and at most 10m (got 1d)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load("", append([]string{"TWOFOLD_DEV=true"}, tt.env...))
			if !strings.Contains(errText(err), tt.want) {
				t.Fatalf("Load = %v\nwant a message containing %s", err, tt.want)
			}
			for _, s := range tt.absent {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows %q", err, s)
				}
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, env := range [][]string{
		{"TWOFOLD_SECRET_KEY=" + goodKey, "TWOFOLD_ISSUER=http://localhost:8080"},
		{"TWOFOLD_SECRET_KEY=" + goodKey, "TWOFOLD_ISSUER=http://127.0.0.1:8080"},
		{"TWOFOLD_SECRET_KEY=" + goodKey, "TWOFOLD_ISSUER=http://[::1]:8080"},
		{"TWOFOLD_SECRET_KEY=" + goodKey, "TWOFOLD_ISSUER=https://id.example.com/tenant", "TWOFOLD_DATABASE_URL=postgresql://u@h/db"},
		{"TWOFOLD_DEV=true", "TWOFOLD_ISSUER=http://id.test:8080"},
		{"TWOFOLD_DEV=true", "TWOFOLD_KEYS_ROTATION_PERIOD=0"},
		{"TWOFOLD_DEV=true", "TWOFOLD_METRICS_LISTEN=:9090", "TWOFOLD_SHUTDOWN_DELAY=0s", "TWOFOLD_SHUTDOWN_TIMEOUT=10m"},
	} {
		if _, err := config.Load("", env); err != nil {
			t.Errorf("Load(%q) = %v, want no error", env, err)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := config.Load("", []string{
		"TWOFOLD_ISSUER=ftp://id.example.com",
		"TWOFOLD_DATABASE_URL=mysql://root:hunter2@db/twofold",
		"TWOFOLD_LOG_LEVEL=chatty",
		"TWOFOLD_KEYS_ALGORITHM=none",
		"TWOFOLD_TOKENS_ID_TOKEN_TTL=-1h",
		"TWOFOLD_TRUSTED_PROXIES=not-a-cidr",
	})
	if err == nil {
		t.Fatal("Load succeeded, want errors")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, key := range []string{"issuer:", "database.url:", "secret_key:", "log.level:", "keys.algorithm:", "tokens.id_token_ttl:", "trusted_proxies:"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, key) }) {
			t.Errorf("no line starts with %q in:\n%s", key, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the database password:\n%s", err)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"90d", 90 * 24 * time.Hour, "90d"},
		{"5m", 5 * time.Minute, "5m"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"1m", time.Minute, "1m"},
		{"400d", 400 * 24 * time.Hour, "400d"},
		{"1h0m30s", time.Hour + 30*time.Second, "1h0m30s"},
		{"90s", 90 * time.Second, "1m30s"},
		{"12h", 12 * time.Hour, "12h"},
		{"48h", 48 * time.Hour, "2d"},
		{" 0 ", 0, "0s"},
	}
	for _, tt := range tests {
		d, err := config.ParseDuration(tt.in)
		if err != nil || d.D() != tt.want || d.String() != tt.str {
			t.Errorf("ParseDuration(%q) = %v (%s), %v; want %v (%s)", tt.in, d.D(), d, err, tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "d", "1.5d", "-1d", "forever", "99999d"} {
		if _, err := config.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want an error", bad)
		}
	}
}

func TestAllKeysMatchEnvironment(t *testing.T) {
	keys := config.AllKeys()
	seen := map[string]bool{}
	for _, k := range keys {
		if k.Env != config.EnvName(k.Path) || !strings.HasPrefix(k.Env, "TWOFOLD_") {
			t.Errorf("key %s has env %s", k.Path, k.Env)
		}
		if k.Doc == "" {
			t.Errorf("key %s has no doc tag", k.Path)
		}
		if seen[k.Env] {
			t.Errorf("two keys share %s", k.Env)
		}
		seen[k.Env] = true
	}
	for _, want := range []string{"issuer", "database.url", "password.memory_kib", "keys.rotation_period", "trusted_proxies"} {
		if !slices.ContainsFunc(keys, func(k config.Key) bool { return k.Path == want }) {
			t.Errorf("AllKeys lacks %s", want)
		}
	}
}

// TestEveryKeyIsInTheREADME keeps the configuration reference complete: a
// new key must be documented, with its environment variable, in README.md.
func TestEveryKeyIsInTheREADME(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatalf("read README: %v (every key of config.AllKeys must be documented there)", err)
	}
	readme := string(data)
	var missing []string
	for _, k := range config.AllKeys() {
		var lacks []string
		if !strings.Contains(readme, "`"+k.Path+"`") {
			lacks = append(lacks, "`"+k.Path+"`")
		}
		if !strings.Contains(readme, k.Env) {
			lacks = append(lacks, k.Env)
		}
		if len(lacks) > 0 {
			missing = append(missing, strings.Join(lacks, " and "))
		}
	}
	if len(missing) > 0 {
		t.Errorf("README.md does not document these configuration keys / variables:\n  %s", strings.Join(missing, "\n  "))
	}
}

// In development mode an issuer left at its default follows the listen
// address, so a dev server on another port links to itself; an issuer that
// was set, or production, is left alone.
func TestDevIssuerFollowsListen(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"TWOFOLD_DEV=true"}, "http://localhost:8080"},
		{[]string{"TWOFOLD_DEV=true", "TWOFOLD_LISTEN=127.0.0.1:18081"}, "http://localhost:18081"},
		{[]string{"TWOFOLD_DEV=true", "TWOFOLD_LISTEN=0.0.0.0:9000"}, "http://localhost:9000"},
		{[]string{"TWOFOLD_DEV=true", "TWOFOLD_LISTEN=[::1]:9000"}, "http://localhost:9000"},
		{[]string{"TWOFOLD_DEV=true", "TWOFOLD_LISTEN=:9000"}, "http://localhost:9000"},
		{[]string{"TWOFOLD_DEV=true", "TWOFOLD_LISTEN=192.0.2.7:9000"}, "http://192.0.2.7:9000"},
		{[]string{"TWOFOLD_DEV=true", "TWOFOLD_LISTEN=127.0.0.1:0"}, "http://localhost:8080"},
		{[]string{"TWOFOLD_DEV=true", "TWOFOLD_LISTEN=127.0.0.1:18081", "TWOFOLD_ISSUER=https://id.example.com/"}, "https://id.example.com"},
		{[]string{"TWOFOLD_LISTEN=127.0.0.1:18081", "TWOFOLD_SECRET_KEY=0123456789abcdef0123456789abcdef"}, "http://localhost:8080"},
	} {
		cfg, err := config.Load("", tc.env)
		if err != nil {
			t.Errorf("Load(%v): %v", tc.env, err)
			continue
		}
		if cfg.Issuer != tc.want {
			t.Errorf("Load(%v): issuer = %q, want %q", tc.env, cfg.Issuer, tc.want)
		}
	}
}
