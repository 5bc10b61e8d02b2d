package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/config"
)

// TestLoadYAMLProblems checks that every problem of the file is reported at
// once, each with its key path, line and value, followed by the Validate
// problems; FILE in want stands for the file's path.
func TestLoadYAMLProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        []string
		want       []string // lines of the error, in order
	}{
		{name: "bad duration", yaml: "dev: true\notp: {ttl: forever}\n",
			want: []string{`otp.ttl (FILE line 2): must be a duration like 30s, 5m, 12h or 90d (got "forever")`}},
		{name: "negative days", yaml: "dev: true\nsession: {lifetime: -1d}\n",
			want: []string{`session.lifetime (FILE line 2): must be a duration like 30s, 5m, 12h or 90d (got "-1d")`}},
		{name: "Validate runs after the file", yaml: "dev: true\notp:\n  digits: 12\nlog:\n  level: loud\n",
			want: []string{`log.level: must be debug, info, warn or error (got "loud")`, `otp.digits: must be 6 to 10 (got 12)`}},
		{name: "unknown nested key", yaml: "dev: true\ntokens:\n  access_token_ttl: 5m\n\n  access_ttl: 5m\n",
			want: []string{`tokens.access_ttl (FILE line 5): unknown key`}},
		{name: "misspelled secret, value not shown", yaml: "dev: true\nsecret_kye: hunter2hunter2hunter2hunter2hunter2\n",
			want: []string{`secret_kye (FILE line 2): unknown key`}},
		{name: "unknown top-level section", yaml: "dev: true\nsmtpp:\n  host: x\n",
			want: []string{`smtpp (FILE line 2): unknown key`}},
		{name: "not a number", yaml: "dev: true\notp: {digits: \"six\"}\n",
			want: []string{`otp.digits (FILE line 2): must be a whole number (got "six")`}},
		{name: "too big for the key", yaml: "dev: true\npassword:\n  parallelism: 300\n",
			want: []string{`password.parallelism (FILE line 3): must be a whole number that fits 8 bits (got "300")`}},
		{name: "not a bool", yaml: "dev: maybe\n",
			want: []string{`dev (FILE line 1): must be true or false (got "maybe")`, `secret_key: is required outside development mode (generate one with: openssl rand -base64 32)`}},
		{name: "list where a value belongs", yaml: "dev: true\ndatabase:\n  max_open_conns: [1, 2]\n",
			want: []string{`database.max_open_conns (FILE line 3): must be a single value (got a list)`}},
		{name: "value where a list belongs", yaml: "dev: true\ntrusted_proxies: 10.0.0.0/8\n",
			want: []string{`trusted_proxies (FILE line 2): must be a list such as [a, b] (got "10.0.0.0/8")`}},
		{name: "mapping in a list", yaml: "dev: true\notp:\n  sms_fallback:\n    - email\n    - {sms: 1}\n",
			want: []string{`otp.sms_fallback (FILE line 5): list items must be single values (got a mapping)`}},
		{name: "value where a section belongs", yaml: "dev: true\ntokens: 5m\n",
			want: []string{`tokens (FILE line 2): must be a mapping of keys, one per line under it (got "5m")`}},
		{name: "key set twice", yaml: "dev: true\nlog:\n  level: debug\n  level: info\n",
			want: []string{`log.level (FILE line 4): is set twice (first on line 3)`}},
		{name: "not a mapping", yaml: "- dev\n",
			want: []string{`FILE line 1: must be a mapping of keys such as issuer: https://id.example.com (got a list)`}},
		{name: "not YAML, with a bad variable", yaml: "dev: true\nlog: [\n", env: []string{"TWOFOLD_OTP_TTL=soon"},
			want: []string{`FILE: line 2: did not find expected node content`, `otp.ttl (from TWOFOLD_OTP_TTL): must be a duration like 30s, 5m, 12h or 90d (got "soon")`}},
		{name: "file, then environment, then Validate",
			yaml: "otp:\n  ttl: forever\n  digits: 12\ntokens:\n  access_ttl: 5m\nlog: {level: loud}\n",
			env:  []string{"TWOFOLD_DEV=true", "TWOFOLD_OTP_MAX_ATTEMPTS=many", "TWOFOLD_SESSION_LIFETIME=-1d"},
			want: []string{
				`otp.ttl (FILE line 2): must be a duration like 30s, 5m, 12h or 90d (got "forever")`,
				`tokens.access_ttl (FILE line 5): unknown key`,
				`session.lifetime (from TWOFOLD_SESSION_LIFETIME): must be a duration like 30s, 5m, 12h or 90d (got "-1d")`,
				`otp.max_attempts (from TWOFOLD_OTP_MAX_ATTEMPTS): must be a whole number (got "many")`,
				`log.level: must be debug, info, warn or error (got "loud")`,
				`otp.digits: must be 6 to 10 (got 12)`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.yaml)
			_, err := config.Load(path, tt.env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "FILE", path))
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
				t.Errorf("Load error:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			for _, goName := range []string{"config.", "!!", "unmarshal", "[]string", " int"} {
				if strings.Contains(err.Error(), goName) {
					t.Errorf("error names a Go or YAML type (%q):\n%s", goName, err)
				}
			}
		})
	}
}

// TestFileAndEnvironmentSayTheSame keeps one set of messages: a bad value
// reads the same whether it comes from the file or from the environment.
func TestFileAndEnvironmentSayTheSame(t *testing.T) {
	for _, tt := range []struct{ key, value string }{
		{"otp.ttl", "forever"},
		{"otp.digits", "six"},
		{"metrics.enabled", "sometimes"},
		{"password.memory_kib", "-1"},
		{"limits.ip_window", "5 minutes"},
	} {
		section, name, _ := strings.Cut(tt.key, ".")
		_, fileErr := config.Load(writeFile(t, "dev: true\n"+section+":\n  "+name+": \""+tt.value+"\"\n"), nil)
		_, envErr := config.Load("", []string{"TWOFOLD_DEV=true", config.EnvName(tt.key) + "=" + tt.value})
		_, fromFile, _ := strings.Cut(errText(fileErr), "): ")
		_, fromEnv, _ := strings.Cut(errText(envErr), "): ")
		if fromFile == "" || fromFile != fromEnv {
			t.Errorf("%s = %q: the file gives %q, the environment %q", tt.key, tt.value, errText(fileErr), errText(envErr))
		}
	}
}

// TestLoadYAMLForms checks the YAML forms yaml.Decoder accepted keep
// working: anchors and merge keys, YAML 1.1 booleans, digit separators,
// null values and flow style.
func TestLoadYAMLForms(t *testing.T) {
	path := writeFile(t, `
dev: yes
metrics: {enabled: off}
database: ~
password:
  memory_kib: 65_536
otp:
  ttl: &ten 10m
  sms_fallback:
  voice_fallback: [sms, email]
tokens:
  access_token_ttl: *ten
  id_token_ttl: 2h
session:
  <<: {cookie_name: sid, lifetime: 1d}
  lifetime: 7d
`)
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"dev", cfg.Dev, true},
		{"metrics.enabled", cfg.Metrics.Enabled, false},
		{"database.max_open_conns", cfg.Database.MaxOpenConns, 20},
		{"password.memory_kib", cfg.Password.MemoryKiB, uint32(65536)},
		{"otp.ttl", cfg.OTP.TTL.D(), 10 * time.Minute},
		{"otp.sms_fallback", len(cfg.OTP.SMSFallback), 0},
		{"otp.voice_fallback", strings.Join(cfg.OTP.VoiceFallback, ","), "sms,email"},
		{"tokens.access_token_ttl", cfg.Tokens.AccessTokenTTL.D(), 10 * time.Minute},
		{"tokens.id_token_ttl", cfg.Tokens.IDTokenTTL.D(), 2 * time.Hour},
		{"session.cookie_name", cfg.Session.CookieName, "sid"},
		{"session.lifetime", cfg.Session.Lifetime.D(), 7 * 24 * time.Hour},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v (%T), want %v (%T)", c.key, c.got, c.got, c.want, c.want)
		}
	}
}
