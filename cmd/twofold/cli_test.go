package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/account"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// syncBuffer is a bytes.Buffer that serve's goroutines and the test can
// share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cliEnv runs the command line in-process against one temporary SQLite
// database, and checks at the end that no secret it saw reached stderr.
type cliEnv struct {
	t       *testing.T
	dir     string
	env     []string
	stderr  syncBuffer // every command's stderr, for the secret check
	mu      sync.Mutex
	secrets []string
}

// newCLI is newEmptyCLI with its database created (by twofold migrate), as
// an operator has it once serve or migrate has run: the administrative
// commands refuse to create one.
func newCLI(t *testing.T, extraEnv ...string) *cliEnv {
	t.Helper()
	c := newEmptyCLI(t, extraEnv...)
	c.ok("", "migrate")
	return c
}

// newEmptyCLI is a command line in an empty data directory: no database.
func newEmptyCLI(t *testing.T, extraEnv ...string) *cliEnv {
	t.Helper()
	dir := t.TempDir()
	c := &cliEnv{t: t, dir: dir, env: append([]string{
		"TWOFOLD_DEV=true",
		"TWOFOLD_DATA_DIR=" + dir,
		"TWOFOLD_PASSWORD_MEMORY_KIB=64",
		"TWOFOLD_PASSWORD_ITERATIONS=1",
		"TWOFOLD_LOG_LEVEL=debug", // the most talkative, for the secret check
		"TWOFOLD_SHUTDOWN_DELAY=0s",
	}, extraEnv...)}
	t.Cleanup(func() {
		logs := c.stderr.String()
		for _, s := range c.secrets {
			if strings.Contains(logs, s) {
				t.Errorf("secret %q appears on stderr:\n%s", s, logs)
			}
		}
	})
	return c
}

// secret registers a value that must never be written to stderr.
func (c *cliEnv) secret(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets = append(c.secrets, s)
}

// run runs twofold with args and stdin and returns the exit code, stdout
// and stderr.
func (c *cliEnv) run(stdin string, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	return c.runCtx(context.Background(), stdin, args...)
}

func (c *cliEnv) runCtx(ctx context.Context, stdin string, args ...string) (int, string, string) {
	if stdin != "" {
		c.secret(strings.TrimSpace(stdin))
	}
	var out, errOut syncBuffer
	code := run(ctx, args, strings.NewReader(stdin), &out, io.MultiWriter(&errOut, &c.stderr), c.env)
	return code, out.String(), errOut.String()
}

// ok runs a command that must succeed and returns its stdout.
func (c *cliEnv) ok(stdin string, args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("twofold %s: exit %d, want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// fails runs a command that must exit 1 and checks that stderr contains
// every string of want.
func (c *cliEnv) fails(stdin string, args []string, want ...string) {
	c.t.Helper()
	code, out, errOut := c.run(stdin, args...)
	if code != 1 {
		c.t.Errorf("twofold %s: exit %d, want 1\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
		return
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			c.t.Errorf("twofold %s: stderr does not contain %q:\n%s", strings.Join(args, " "), w, errOut)
		}
	}
}

// okJSON runs a command that must succeed and decodes its JSON output.
func okJSON[T any](c *cliEnv, stdin string, args ...string) T {
	c.t.Helper()
	out := c.ok(stdin, args...)
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		c.t.Fatalf("twofold %s: output is not the expected JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}

type clientOut struct {
	ClientID        string   `json:"client_id"`
	ClientSecret    *string  `json:"client_secret"`
	Name            string   `json:"name"`
	AuthMethod      string   `json:"token_endpoint_auth_method"`
	ApplicationType string   `json:"application_type"`
	RedirectURIs    []string `json:"redirect_uris"`
	GrantTypes      []string `json:"grant_types"`
	SigningAlg      string   `json:"id_token_signed_response_alg"`
}

func TestClientLifecycle(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	created := okJSON[clientOut](c, "", "client", "create", "--name", "Wiki", "--redirect-uri", "https://wiki.example/callback", "--json")
	if created.ClientID == "" || created.ClientSecret == nil || len(*created.ClientSecret) < 43 {
		t.Fatalf("client create = %+v, want a client_id and a client_secret of at least 43 characters", created)
	}
	secret := *created.ClientSecret
	c.secret(secret)
	if created.Name != "Wiki" || created.AuthMethod != "client_secret_basic" || created.ApplicationType != "web" ||
		strings.Join(created.GrantTypes, " ") != "authorization_code refresh_token" ||
		strings.Join(created.RedirectURIs, " ") != "https://wiki.example/callback" {
		t.Errorf("client create = %+v, want a web client with the default grants", created)
	}

	listOut := c.ok("", "client", "list", "--json")
	if strings.Contains(listOut, secret) || strings.Contains(listOut, `"client_secret"`) {
		t.Errorf("client list shows a secret:\n%s", listOut)
	}
	var list []clientOut
	if err := json.Unmarshal([]byte(listOut), &list); err != nil || len(list) != 1 || list[0].ClientID != created.ClientID {
		t.Fatalf("client list = %s (%v), want exactly the Wiki client", listOut, err)
	}
	textList := c.ok("", "client", "list")
	if !strings.Contains(textList, created.ClientID) || !strings.Contains(textList, "Wiki") {
		t.Errorf("client list (text) lacks the client:\n%s", textList)
	}

	shown := c.ok("", "client", "show", created.ClientID)
	if !strings.Contains(shown, created.ClientID) || !strings.Contains(shown, "https://wiki.example/callback") || strings.Contains(shown, secret) {
		t.Errorf("client show = %s, want the client without its secret", shown)
	}

	rotated := okJSON[clientOut](c, "", "client", "rotate-secret", created.ClientID, "--json")
	if rotated.ClientSecret == nil || len(*rotated.ClientSecret) < 43 || *rotated.ClientSecret == secret || rotated.ClientID != created.ClientID {
		t.Fatalf("rotate-secret = %+v, want a new secret for %s", rotated, created.ClientID)
	}
	c.secret(*rotated.ClientSecret)
	textRotated := c.ok("", "client", "rotate-secret", created.ClientID)
	if !strings.Contains(textRotated, "shown once") {
		t.Errorf("rotate-secret (text) = %s, want the one-time warning", textRotated)
	}
	c.secret(strings.Fields(strings.SplitN(textRotated, "client_secret:", 2)[1])[0])

	if out := c.ok("", "client", "delete", created.ClientID); !strings.Contains(out, "Deleted client "+created.ClientID) {
		t.Errorf("client delete = %q", out)
	}
	missing := `no client with id "` + created.ClientID + `"`
	c.fails("", []string{"client", "show", created.ClientID}, missing)
	c.fails("", []string{"client", "delete", created.ClientID}, missing)
	c.fails("", []string{"client", "rotate-secret", created.ClientID}, missing)
}

// TestBuiltInClients checks the account pages' client cannot be deleted,
// which would break /account until a restart; other clients, the demo
// client among them, can.
func TestBuiltInClients(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	refused := `client "` + account.ClientID + `" is built in and cannot be deleted: the account pages (/account) sign in with it`
	c.fails("", []string{"client", "delete", account.ClientID}, refused) // before serve registered it
	c.ok("", "client", "create", "--id", account.ClientID, "--name", "Your twofold account", "--public",
		"--redirect-uri", "http://localhost:8080"+account.CallbackPath)
	c.fails("", []string{"client", "delete", account.ClientID}, refused)
	c.fails("", []string{"client", "rotate-secret", account.ClientID}, "has no secret") // public: nothing to break
	if out := c.ok("", "client", "show", account.ClientID); !strings.Contains(out, account.CallbackPath) {
		t.Errorf("client show after the refused delete = %s, want the client unchanged", out)
	}
	c.ok("", "client", "create", "--id", "demo", "--name", "twofold demo", "--public", "--redirect-uri", "http://localhost:8080/demo/callback")
	if out := c.ok("", "client", "delete", "demo"); !strings.Contains(out, "Deleted client demo") {
		t.Errorf("client delete demo = %q, want it deleted", out)
	}
}

func TestClientKinds(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	public := okJSON[clientOut](c, "", "client", "create", "--name", "SPA", "--public", "--redirect-uri", "http://localhost:3000/cb", "--json")
	if public.ClientSecret != nil || public.AuthMethod != "none" || public.ApplicationType != "user_agent" {
		t.Errorf("public client = %+v, want no secret, auth method none, application type user_agent", public)
	}
	c.fails("", []string{"client", "rotate-secret", public.ClientID}, "has no secret")

	text := c.ok("", "client", "create", "--name", "SPA2", "--public", "--redirect-uri", "http://127.0.0.1:3000/cb")
	if strings.Contains(text, "client_secret") {
		t.Errorf("public client create printed a secret line:\n%s", text)
	}

	batch := okJSON[clientOut](c, "", "client", "create", "--name", "Batch", "--grant-type", "client_credentials", "--json")
	if batch.ClientSecret == nil || len(*batch.ClientSecret) < 43 || strings.Join(batch.GrantTypes, " ") != "client_credentials" || len(batch.RedirectURIs) != 0 {
		t.Errorf("client_credentials client = %+v, want a secret, the one grant and no redirect URIs", batch)
	} else {
		c.secret(*batch.ClientSecret)
	}

	native := okJSON[clientOut](c, "", "client", "create", "--name", "App", "--public", "--application-type", "native", "--redirect-uri", "com.example.app:/callback", "--json")
	if native.ApplicationType != "native" || native.AuthMethod != "none" {
		t.Errorf("native client = %+v", native)
	}

	fixed := okJSON[clientOut](c, "", "client", "create", "--id", "wiki", "--name", "Wiki", "--redirect-uri", "https://wiki.example/cb", "--json")
	if fixed.ClientID != "wiki" {
		t.Errorf("client create --id wiki gave id %q", fixed.ClientID)
	}
	c.secret(*fixed.ClientSecret)
	c.fails("", []string{"client", "create", "--id", "wiki", "--name", "Again", "--redirect-uri", "https://wiki.example/cb"}, `a client with id "wiki" already exists`)
	if fixed.SigningAlg != "" {
		t.Errorf("a client created without an algorithm has %q, want none (keys.algorithm)", fixed.SigningAlg)
	}

	es := okJSON[clientOut](c, "", "client", "create", "--name", "Fast", "--redirect-uri", "https://fast.example/cb",
		"--id-token-signed-response-alg", "ES256", "--json")
	if es.SigningAlg != "ES256" {
		t.Errorf("client create --id-token-signed-response-alg ES256 = %+v", es)
	}
	c.secret(*es.ClientSecret)
	if text := c.ok("", "client", "show", es.ClientID); !strings.Contains(text, "signing algorithm:") || !strings.Contains(text, "ES256") {
		t.Errorf("client show of an ES256 client:\n%s", text)
	}
}

func TestClientCreateRejects(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"http on a public host", []string{"--redirect-uri", "http://wiki.example/cb"}, []string{"--redirect-uri", "http://wiki.example/cb", "https"}},
		{"wildcard", []string{"--redirect-uri", "https://*.example/cb"}, []string{"--redirect-uri", "wildcards (*) are not allowed", "register each URI in full"}},
		{"fragment", []string{"--redirect-uri", "https://wiki.example/cb#top"}, []string{"--redirect-uri", "fragment"}},
		{"custom scheme for a web app", []string{"--redirect-uri", "com.example.app:/cb"}, []string{"--redirect-uri: ", "application type native"}},
		{"relative", []string{"--redirect-uri", "/cb"}, []string{"--redirect-uri"}},
		{"no redirect URI", nil, []string{"--redirect-uri", "authorization_code"}},
		{"unknown grant type", []string{"--redirect-uri", "https://wiki.example/cb", "--grant-type", "password"}, []string{"--grant-type", `"password"`}},
		{"public client_credentials", []string{"--public", "--grant-type", "client_credentials"}, []string{"--grant-type: client_credentials needs a confidential client"}},
		{"public with a secret method", []string{"--public", "--auth-method", "client_secret_post", "--redirect-uri", "https://wiki.example/cb"}, []string{"--public"}},
		{"bad post-logout URI", []string{"--redirect-uri", "https://wiki.example/cb", "--post-logout-redirect-uri", "http://wiki.example/"}, []string{"--post-logout-redirect-uri"}},
		{"bad application type", []string{"--redirect-uri", "https://wiki.example/cb", "--application-type", "desktop"}, []string{"--application-type"}},
		{"bad token format", []string{"--redirect-uri", "https://wiki.example/cb", "--access-token-format", "paseto"}, []string{"--access-token-format"}},
		{"bad signing algorithm", []string{"--redirect-uri", "https://wiki.example/cb", "--id-token-signed-response-alg", "HS256"}, []string{"--id-token-signed-response-alg", `"HS256"`, "RS256 or ES256"}},
		{"private_key_jwt without keys", []string{"--redirect-uri", "https://wiki.example/cb", "--auth-method", "private_key_jwt"}, []string{"--jwks-file"}},
		{"bad id", []string{"--id", "a/b", "--redirect-uri", "https://wiki.example/cb"}, []string{"--id"}},
		{"two problems at once", []string{"--redirect-uri", "http://wiki.example/cb", "--grant-type", "implicit"}, []string{"--redirect-uri", "--grant-type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			defer func() { c.t = t }()
			c.fails("", append([]string{"client", "create", "--name", "Wiki"}, tt.args...), tt.want...)
		})
	}
	c.fails("", []string{"client", "create", "--redirect-uri", "https://wiki.example/cb"}, "--name")
	if list := okJSON[[]clientOut](c, "", "client", "list", "--json"); len(list) != 0 {
		t.Errorf("rejected clients were stored: %+v", list)
	}
}

type userOut struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Disabled bool   `json:"disabled"`

	EmailVerified bool `json:"email_verified"`
	PhoneVerified bool `json:"phone_verified"`
}

// An admin who sets code methods vouches for the destinations: the user's
// phone and email are verified from then on, and user show says so.
func TestSetSecondFactorVerifiesContacts(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("a-long-password\n", "user", "create", "--username", "alice", "--email", "alice@example.com", "--phone", "+14155550100", "--password-stdin")
	text := c.ok("", "user", "show", "alice")
	if !strings.Contains(text, "alice@example.com (not verified)") || !strings.Contains(text, "+14155550100 (not verified)") {
		t.Fatalf("user show before set-second-factor:\n%s", text)
	}
	c.ok("", "user", "set-second-factor", "alice", "--methods", "sms")
	u := okJSON[userOut](c, "", "user", "show", "alice", "--json")
	if !u.PhoneVerified || u.EmailVerified {
		t.Fatalf("after --methods sms: phone_verified %v, email_verified %v; want true, false", u.PhoneVerified, u.EmailVerified)
	}
	c.ok("", "user", "set-second-factor", "alice", "--methods", "sms,email")
	text = c.ok("", "user", "show", "alice")
	if !strings.Contains(text, "alice@example.com (verified)") || !strings.Contains(text, "+14155550100 (verified)") {
		t.Fatalf("user show after set-second-factor sms,email:\n%s", text)
	}
}

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	const password = "correct horse battery staple"
	alice := okJSON[userOut](c, password+"\n", "user", "create", "--username", "alice", "--email", "alice@example.com", "--phone", "+14155550100", "--name", "Alice", "--password-stdin", "--json")
	if alice.ID == "" || alice.Username != "alice" || alice.Email != "alice@example.com" || alice.Phone != "+14155550100" || alice.Disabled {
		t.Fatalf("user create = %+v", alice)
	}
	c.ok("bob-password", "user", "create", "--username", "Bob", "--password-stdin") // no newline at EOF

	c.fails("", []string{"user", "create", "--username", "carol"}, "--password-stdin")
	c.fails("shorty1\n", []string{"user", "create", "--username", "carol", "--password-stdin"}, "at least 8 characters")
	c.fails("", []string{"user", "create", "--username", "carol", "--password-stdin"}, "no password on standard input")
	c.fails("another-password\n", []string{"user", "create", "--username", "ALICE", "--password-stdin"}, `"ALICE" is taken`)
	c.fails("another-password\n", []string{"user", "create", "--username", "carol", "--phone", "12345", "--password-stdin"}, "--phone")
	c.fails("another-password\n", []string{"user", "create", "--username", "carol", "--email", "carol@", "--password-stdin"}, "--email")
	c.fails("another-password\n", []string{"user", "create", "--username", "car ol", "--password-stdin"}, "--username")
	c.fails("another-password\n", []string{"user", "create", "--username", "carol", "--email", "x", "--phone", "y", "--password-stdin"}, "--email", "--phone")

	list := okJSON[[]userOut](c, "", "user", "list", "--json")
	if len(list) != 2 || list[0].Username != "alice" || list[1].Username != "bob" {
		t.Fatalf("user list = %+v, want alice and bob (usernames are stored in lower case)", list)
	}
	if text := c.ok("", "user", "list"); !strings.Contains(text, "alice") || !strings.Contains(text, "active") {
		t.Errorf("user list (text) = %s", text)
	}

	show := func(ref string) userOut { return okJSON[userOut](c, "", "user", "show", ref, "--json") }
	if got := show("ALICE"); got.ID != alice.ID {
		t.Errorf("user show ALICE = %+v, want alice (usernames are case-insensitive)", got)
	}
	if got := show(alice.ID); got.Username != "alice" {
		t.Errorf("user show <id> = %+v, want alice", got)
	}

	c.ok("", "user", "disable", "alice")
	if !show("alice").Disabled {
		t.Error("after user disable, show says the user is enabled")
	}
	c.ok("", "user", "enable", "alice")
	if show("alice").Disabled {
		t.Error("after user enable, show says the user is disabled")
	}

	before := c.passwordHash(alice.ID)
	c.fails("", []string{"user", "set-password", "alice"}, "--password-stdin")
	c.fails("tiny123\n", []string{"user", "set-password", "alice", "--password-stdin"}, "at least 8 characters")
	c.fails("a-new-password\n", []string{"user", "set-password", "nobody", "--password-stdin"}, `no user "nobody"`)
	if after := c.passwordHash(alice.ID); after != before {
		t.Fatal("a failed set-password changed the hash")
	}
	c.ok("a-new-password\n", "user", "set-password", "alice", "--password-stdin")
	c.checkPassword(alice.ID, "a-new-password", true)
	c.checkPassword(alice.ID, password, false)

	if out := c.ok("", "user", "delete", "alice"); !strings.Contains(out, "Deleted alice") {
		t.Errorf("user delete = %q", out)
	}
	c.fails("", []string{"user", "show", "alice"}, `no user "alice"`)
	for _, cmd := range []string{"disable", "enable", "delete"} {
		c.fails("", []string{"user", cmd, "alice"}, `no user "alice"`)
	}
}

// passwordHash reads a user's stored password hash directly.
func (c *cliEnv) passwordHash(id string) string {
	c.t.Helper()
	st, err := storage.Open("sqlite:"+filepath.Join(c.dir, "twofold.db"), storage.Options{MaxOpenConns: 1})
	if err != nil {
		c.t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User(context.Background(), id)
	if err != nil {
		c.t.Fatal(err)
	}
	return u.PasswordHash
}

func (c *cliEnv) checkPassword(id, pw string, want bool) {
	c.t.Helper()
	ok, err := password.NewHasher(64, 1, 1, 1, time.Second).Verify(context.Background(), c.passwordHash(id), pw)
	if err != nil || ok != want {
		c.t.Errorf("password %q verifies = %v, %v; want %v", pw, ok, err, want)
	}
}

type keyOut struct {
	KID          string `json:"kid"`
	Algorithm    string `json:"algorithm"`
	Active       bool   `json:"active"`
	VisibleUntil string `json:"visible_until"`
}

func TestKeysAndMigrate(t *testing.T) {
	t.Parallel()
	c := newEmptyCLI(t)
	if out := c.ok("", "migrate", "--status"); !strings.Contains(out, "1  pending") {
		t.Errorf("migrate --status on a new database = %q, want version 1 pending", out)
	}
	if out := c.ok("", "migrate"); !strings.Contains(out, "Applied ") || !strings.Contains(out, "1  applied ") {
		t.Errorf("migrate = %q", out)
	}
	out := c.ok("", "migrate", "--status")
	if !strings.Contains(out, "   1  applied   initial schema") || strings.Contains(out, "pending") {
		t.Errorf("migrate --status = %q, want every version applied", out)
	}
	if out := c.ok("", "migrate"); !strings.Contains(out, "Applied 0 migration(s).") {
		t.Errorf("second migrate = %q, want nothing applied", out)
	}

	first := okJSON[[]keyOut](c, "", "keys", "rotate", "--json")
	second := okJSON[[]keyOut](c, "", "keys", "rotate", "--json")
	if len(first) != 2 || len(second) != 2 || first[0].Algorithm != "RS256" || second[1].Algorithm != "ES256" ||
		first[0].KID == "" || first[0].KID == second[0].KID {
		t.Fatalf("keys rotate = %+v then %+v, want new RS256 and ES256 keys each time", first, second)
	}
	keys := okJSON[[]keyOut](c, "", "keys", "list", "--json")
	if len(keys) != 4 {
		t.Fatalf("keys list = %+v, want 4 keys", keys)
	}
	byKID := map[string]keyOut{}
	for _, k := range keys {
		byKID[k.KID] = k
	}
	for _, k := range second {
		if got := byKID[k.KID]; !got.Active || got.VisibleUntil != "" || got.Algorithm != k.Algorithm {
			t.Errorf("newest %s key = %+v, want %s active without visible_until", k.Algorithm, got, k.KID)
		}
	}
	for _, k := range first {
		got := byKID[k.KID]
		if got.Active || got.VisibleUntil == "" {
			t.Errorf("older %s key = %+v, want %s retired with visible_until", k.Algorithm, got, k.KID)
		}
		if _, err := time.Parse(time.RFC3339, got.VisibleUntil); err != nil {
			t.Errorf("visible_until %q: %v", got.VisibleUntil, err)
		}
	}
	if text := c.ok("", "keys", "list"); !strings.Contains(text, "retired, in JWKS until") || !strings.Contains(text, "active") {
		t.Errorf("keys list (text) = %s", text)
	}
	if text := c.ok("", "keys", "rotate"); !strings.Contains(text, "New ES256 signing key") || !strings.Contains(text, "without an algorithm of their own get RS256") {
		t.Errorf("keys rotate (text) = %s", text)
	}

	es := newCLI(t, "TWOFOLD_KEYS_ALGORITHM=ES256")
	if text := es.ok("", "keys", "rotate"); !strings.Contains(text, "without an algorithm of their own get ES256") {
		t.Errorf("keys rotate with keys.algorithm ES256 = %s", text)
	}
}

func TestParsingAndHelp(t *testing.T) {
	t.Parallel()
	c := newEmptyCLI(t)
	for _, args := range [][]string{{"frobnicate"}, {"client", "create", "--name", "x", "--bogus"}, {"user"}, {"client", "show"}, {"--json", "keys", "spin"}} {
		if code, out, errOut := c.run("", args...); code != 1 || errOut == "" {
			t.Errorf("twofold %s: exit %d, stderr %q, stdout %q; want exit 1 with a message", strings.Join(args, " "), code, errOut, out)
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"client", "--help"}, {"client", "create", "--help"}, {"user", "create", "-h"}} {
		code, out, errOut := c.run("", args...)
		if code != 0 || !strings.Contains(out, "Usage: twofold") {
			t.Errorf("twofold %s: exit %d, stdout %q, stderr %q; want exit 0 with the usage", strings.Join(args, " "), code, out, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(c.dir, "twofold.db")); err == nil {
		t.Error("parsing errors and --help opened the database")
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "twofold.yaml")
	if err := os.WriteFile(path, []byte("dev: true\nkeys:\n  algorithm: HS256\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newEmptyCLI(t, "TWOFOLD_DATABASE_URL=mysql://root:hunter2@db/twofold")
	c.secret("hunter2")
	c.fails("", []string{"client", "list"}, "database.url: must be postgres:// or sqlite:")
	c.env = c.env[:len(c.env)-1]
	c.fails("", []string{"--config", path, "client", "list"}, `keys.algorithm: must be RS256 or ES256 (got "HS256")`)
	c.fails("", []string{"-c", path, "client", "list"}, "keys.algorithm")
	c.fails("", []string{"-c", filepath.Join(dir, "missing.yaml"), "client", "list"}, "missing.yaml")

	// run takes its whole environment from its caller, TWOFOLD_CONFIG too.
	c.env = append(c.env, "TWOFOLD_CONFIG="+path)
	c.fails("", []string{"client", "list"}, "keys.algorithm")

	// --dev works where TWOFOLD_DEV does not say it.
	prod := newCLI(t)
	prod.env = []string{"TWOFOLD_DATA_DIR=" + prod.dir, "TWOFOLD_PASSWORD_MEMORY_KIB=64", "TWOFOLD_PASSWORD_ITERATIONS=1"}
	prod.fails("", []string{"client", "list"}, "secret_key")
	prod.ok("", "--dev", "client", "list")
}

func TestServe(t *testing.T) {
	c := newCLI(t, "TWOFOLD_LISTEN=127.0.0.1:0", "TWOFOLD_ISSUER=http://localhost:9999/")
	serve := func() {
		t.Helper()
		stderr := serveOnce(t, c, func(base string) {
			for _, path := range []string{"/healthz", "/readyz"} {
				if code, body := get(t, base+path); code != http.StatusOK || body != "ok\n" {
					t.Errorf("GET %s = %d %q, want 200 ok", path, code, body)
				}
			}
			if iss := discoveredIssuer(t, base); iss != "http://localhost:9999" {
				t.Errorf("discovery issuer = %q, want http://localhost:9999", iss)
			}
		})
		if !strings.Contains(stderr, "twofold is ready") || !strings.Contains(stderr, "shutting down") || !strings.Contains(stderr, "DEVELOPMENT mode") {
			t.Errorf("serve log lacks the ready line, the banner or the shutdown line:\n%s", stderr)
		}
		// The issuer names a port the server does not listen on: the banner warns.
		if !strings.Contains(stderr, "WARNING: the issuer http://localhost:9999 is not this server") {
			t.Errorf("the banner does not warn that issuer and listen disagree:\n%s", stderr)
		}
	}

	serve()
	keys := okJSON[[]keyOut](c, "", "keys", "list", "--json")
	if len(keys) != 2 || !keys[0].Active || !keys[1].Active || keys[0].Algorithm == keys[1].Algorithm {
		t.Fatalf("after serve, keys = %+v, want one active RS256 and one active ES256 key", keys)
	}
	serve()
	if again := okJSON[[]keyOut](c, "", "keys", "list", "--json"); len(again) != 2 || again[0].KID != keys[0].KID || again[1].KID != keys[1].KID {
		t.Errorf("second serve changed the signing keys: %+v, was %+v", again, keys)
	}
	clients := okJSON[[]clientOut](c, "", "client", "list", "--json")
	var ids []string
	for _, cl := range clients {
		ids = append(ids, cl.ClientID)
		if cl.AuthMethod != "none" {
			t.Errorf("seeded client %s is not public: %+v", cl.ClientID, cl)
		}
	}
	if slices.Sort(ids); !slices.Equal(ids, []string{"demo", "twofold-account"}) {
		t.Errorf("after two serves, clients = %+v, want the demo and the account client once each", clients)
	}
	if users := okJSON[[]userOut](c, "", "user", "list", "--json"); len(users) != 1 || users[0].Username != "demo" {
		t.Errorf("after two serves, users = %+v, want the one demo user", users)
	}
}

// In development mode, an issuer left unset follows the listen port, and
// the demo client follows the issuer: a dev server moved to another port
// links to itself and its demo still signs in.
func TestServeDevIssuerFollowsListen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	c := newCLI(t, "TWOFOLD_LISTEN=127.0.0.1:0", "TWOFOLD_ISSUER=http://localhost:9999")
	serveOnce(t, c, func(string) {}) // seeds the demo client for http://localhost:9999

	c.env = append(slices.DeleteFunc(c.env, func(kv string) bool {
		return strings.HasPrefix(kv, "TWOFOLD_ISSUER=") || strings.HasPrefix(kv, "TWOFOLD_LISTEN=")
	}), "TWOFOLD_LISTEN=127.0.0.1:"+port)
	want := "http://localhost:" + port
	stderr := serveOnce(t, c, func(base string) {
		if iss := discoveredIssuer(t, base); iss != want {
			t.Errorf("discovery issuer = %q, want %q", iss, want)
		}
		// The demo's and the account pages' sign-ins reach the login page,
		// not a redirect_uri error.
		client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, start := range []string{"/demo/login", "/account/login"} {
			resp, err := client.Get(base + start)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			authorize := resp.Header.Get("Location")
			if strings.HasPrefix(authorize, "/") {
				authorize = want + authorize
			}
			if !strings.HasPrefix(authorize, want+"/authorize?") {
				t.Fatalf("%s = %d to %q, want a redirect to %s/authorize", start, resp.StatusCode, authorize, want)
			}
			resp, err = client.Get(authorize)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "/login?authRequestID=") {
				t.Errorf("/authorize from %s = %d to %q, want the login page:\n%s", start, resp.StatusCode, loc, body)
			}
		}
	})
	if !strings.Contains(stderr, "Try it:   "+want+"/demo") || strings.Contains(stderr, "WARNING") {
		t.Errorf("the banner does not point at %s/demo, or warns:\n%s", want, stderr)
	}
}

// serveOnce runs `twofold serve` until check has run against the address
// it listens on, then stops it gracefully, and returns its stderr.
func serveOnce(t *testing.T, c *cliEnv, check func(base string)) string {
	t.Helper()
	defaultLog := slog.Default() // serve installs its own
	defer slog.SetDefault(defaultLog)
	ready := make(chan string, 1)
	serveReady = func(addr string) { ready <- addr }
	defer func() { serveReady = nil }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr string
	go func() {
		code, _, errOut := c.runCtx(ctx, "", "serve")
		stderr = errOut
		done <- code
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("serve exited with %d before it was ready:\n%s", code, stderr)
	case <-time.After(10 * time.Second):
		t.Fatal("serve was not ready within 10 s")
	}
	check("http://" + addr)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve returned %d after cancel, want 0 (graceful shutdown):\n%s", code, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return within 30 s of cancel")
	}
	return stderr
}

// discoveredIssuer reads the issuer from the discovery document at base.
func discoveredIssuer(t *testing.T, base string) string {
	t.Helper()
	code, body := get(t, base+"/.well-known/openid-configuration")
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal([]byte(body), &disc); code != http.StatusOK || err != nil {
		t.Errorf("discovery = %d %s (%v)", code, body, err)
	}
	return disc.Issuer
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// The load driver refuses bad flags before it starts anything.
func TestBenchRejects(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.fails("", []string{"bench", "--scenario", "flow,nope"}, "--scenario", `"nope"`)
	c.fails("", []string{"bench", "--concurrency", "8,0"}, "--concurrency")
	c.fails("", []string{"bench", "--replicas", "0"}, "--replicas")
	c.fails("", []string{"bench", "--floor", "0", "--database-url", "postgres://127.0.0.1:1/x"}, "--database-url", "secret_key")
}
