package login

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login/guard"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// fuzzBrowser is the binding cookie of the browser the fuzzed request
// belongs to.
const fuzzBrowser = "fuzz-browser-cookie-0123456789abcdef"

// fuzzService is a login service over a real SQLite store, with the abuse
// guard on, one client, one user (alice, password-only) and one
// authorization request bound to fuzzBrowser.
func fuzzService(t testing.TB) (http.Handler, string) {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "fuzz.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New([]byte("fuzz-secret-key-0123456789abcdef-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	codes, err := otp.NewHasher(ring.Derive(keyring.PurposeCode))
	if err != nil {
		t.Fatal(err)
	}
	passwords := password.NewHasher(64, 1, 1, 4, 5*time.Second)
	now := time.Now().UTC()
	hash, err := passwords.Hash(ctx, "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(store.CreateClient(ctx, &storage.Client{ID: "app", Name: "App", AuthMethod: "none", RedirectURIs: storage.StringList{"https://rp.example/cb"},
		GrantTypes: storage.StringList{"authorization_code"}, CreatedAt: now, UpdatedAt: now}))
	must(store.CreateUser(ctx, &storage.User{ID: "alice-id", Username: "alice", Email: "alice@example.com", EmailVerified: true,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}))
	limits := guard.Limits{BackoffAfter: 5, BackoffBase: time.Second, BackoffMax: time.Minute, LockAfter: 100,
		IPFailures: 1 << 30, IPWindow: time.Minute, DestinationPer10m: 5, DestinationPerDay: 10, IPSendsPer10m: 20,
		SMSCountries: []string{"*"}, SMSCountryDaily: 10, SMSGlobalHourly: 10, VoiceCountryDaily: 10, VoiceGlobalHourly: 10}
	svc, err := New(Config{
		Store: store, Passwords: passwords, Keyring: ring, CookieName: "twofold_session", SessionLifetime: time.Hour,
		CallbackURL: func(id string) string { return "/authorize/callback?id=" + id },
		Now:         func() time.Time { return time.Now().UTC() }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Codes: codes, OTP: OTPSettings{Digits: 6, TTL: 5 * time.Minute, MaxAttempts: 5, ResendCooldown: 30 * time.Second, MaxResends: 3},
		Guard: guard.New(store, limits, ring.Derive(guard.KeyPurpose), nil),
		Policy: func(context.Context, string, string) (policy.Effective, error) {
			return policy.Resolve(policy.Defaults(config.Default()), nil, nil, nil), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &storage.AuthRequest{ID: "fuzz-request-0123456789abcdef", ClientID: "app", RedirectURI: "https://rp.example/cb",
		Scopes: storage.StringList{"openid"}, ResponseType: "code", BrowserHash: svc.binding.Sum(fuzzBrowser),
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(store.CreateAuthRequest(ctx, a))
	mux := http.NewServeMux()
	svc.Mount(mux)
	return mux, a.ID
}

// FuzzPasswordForm: whatever the password form holds, postPassword answers
// with a page, a redirect or a 4xx, never a 5xx or a panic.
func FuzzPasswordForm(f *testing.F) {
	handler, id := fuzzService(f)
	for _, seed := range [][3]string{
		{"alice", "alice-password", id}, {"alice", "wrong", id}, {"nobody", "x", id}, {"", "", id}, {"alice", "", id},
		{"ali\xffce", "x", id}, {"alice\x00", "x", id}, {"ali\x1bce", "x", id}, {strings.Repeat("a", 10000), "x", id},
		{"alice", strings.Repeat("p", 2000), id}, {"' OR 1=1 --", "' OR '1'='1", id}, {"alice", "x", ""},
		{"alice", "x", "unknown"}, {"alice", "x", id + "\x00"}, {"alice", "x", strings.Repeat("i", 129)}, {" alice ", "alice-password", id},
		{"ALICE", "alice-password", id}, {"\u202ealice", "x", id}, {"alice", "\xff\xfe\x00", id},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, username, password, authRequestID string) {
		form := url.Values{"authRequestID": {authRequestID}, "username": {username}, "password": {password}}
		req := httptest.NewRequest(http.MethodPost, "/login/password", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "twofold_browser", Value: fuzzBrowser})
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("username %q password %q id %q: status %d:\n%s", username, password, authRequestID, rec.Code, rec.Body)
		}
	})
}
