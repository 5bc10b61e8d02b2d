package main

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/storage"
)

// TestFlagOfCoversTheService: every field of the admin service's inputs
// has an entry in flagOf, so that an error about it names a flag (or, for
// a positional argument, nothing) rather than a JSON key.
func TestFlagOfCoversTheService(t *testing.T) {
	for _, v := range []any{admin.ClientSpec{}, admin.ClientPatch{}, admin.UserSpec{}, admin.UserPatch{}, admin.PolicyDoc{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if _, ok := flagOf[name]; !ok {
				t.Errorf("%s.%s: the field %q has no entry in flagOf", typ.Name(), typ.Field(i).Name, name)
			}
		}
	}
}

func TestClientUpdate(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	created := okJSON[clientOut](c, "", "client", "create", "--id", "wiki", "--name", "Wiki", "--redirect-uri", "https://wiki.example/cb",
		"--post-logout-redirect-uri", "https://wiki.example/", "--json")
	c.secret(*created.ClientSecret)

	type out struct {
		clientOut
		PostLogout []string `json:"post_logout_redirect_uris"`
		Format     string   `json:"access_token_format"`
		Backchan   string   `json:"backchannel_logout_uri"`
		Scopes     []string `json:"scopes"`
	}
	got := okJSON[out](c, "", "client", "update", "wiki", "--name", "Team wiki", "--redirect-uri", "https://wiki.example/cb",
		"--redirect-uri", "https://wiki.example/cb2", "--access-token-format", "jwt", "--scope", "twofold:admin",
		"--backchannel-logout-uri", "https://wiki.example/bc", "--json")
	if got.Name != "Team wiki" || strings.Join(got.RedirectURIs, " ") != "https://wiki.example/cb https://wiki.example/cb2" ||
		got.Format != "jwt" || strings.Join(got.Scopes, " ") != "twofold:admin" || got.Backchan != "https://wiki.example/bc" ||
		strings.Join(got.PostLogout, " ") != "https://wiki.example/" || got.ClientSecret != nil {
		t.Fatalf("client update = %+v", got)
	}
	// Empty values remove what can be removed; what is not given stays.
	got = okJSON[out](c, "", "client", "update", "wiki", "--post-logout-redirect-uri", "", "--backchannel-logout-uri", "", "--scope", "", "--json")
	if len(got.PostLogout) != 0 || got.Backchan != "" || len(got.Scopes) != 0 || got.Name != "Team wiki" || got.Format != "jwt" {
		t.Fatalf("client update with empty values = %+v", got)
	}
	if text := c.ok("", "client", "update", "wiki", "--id-token-signed-response-alg", "ES256"); !strings.Contains(text, "signing algorithm:") {
		t.Errorf("client update (text):\n%s", text)
	}

	// Errors name the flag, every problem at once.
	c.fails("", []string{"client", "update", "wiki", "--redirect-uri", "http://evil.example/cb"}, "--redirect-uri: ", "use https")
	c.fails("", []string{"client", "update", "wiki", "--grant-type", ""}, "--grant-type: name at least one grant type")
	c.fails("", []string{"client", "update", "wiki", "--access-token-format", "paseto", "--scope", "root"},
		"--access-token-format: ", "--scope: ", `"root" is not a scope`)
	c.fails("", []string{"client", "update", "wiki", "--name", " "}, "--name: a display name is required")
	c.fails("", []string{"client", "update", "wiki"}, "nothing to change")
	c.fails("", []string{"client", "update", "nope", "--name", "x"}, `no client with id "nope"`)
	if got := okJSON[out](c, "", "client", "show", "wiki", "--json"); got.Name != "Team wiki" || got.Format != "jwt" {
		t.Errorf("refused updates changed the client: %+v", got)
	}
}

func TestUserUpdate(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("alice-password\n", "user", "create", "--username", "alice", "--email", "alice@example.com", "--phone", "+14155550100", "--password-stdin")
	c.ok("", "user", "set-second-factor", "alice", "--methods", "sms,email")

	type out struct {
		userOut
		Name       string `json:"name"`
		APIAccount bool   `json:"api_account"`
		Admin      bool   `json:"admin"`
	}
	got := okJSON[out](c, "", "user", "update", "alice", "--name", "Alice A", "--phone", "+1 415 555 0111", "--api-account", "--admin", "--json")
	if got.Name != "Alice A" || got.Phone != "+14155550111" || !got.APIAccount || !got.Admin || got.Email != "alice@example.com" {
		t.Fatalf("user update = %+v", got)
	}
	// The sms method followed the new number.
	type shown struct {
		SecondFactors []struct{ Method, Destination string } `json:"second_factors"`
	}
	for _, f := range okJSON[shown](c, "", "user", "show", "alice", "--json").SecondFactors {
		if f.Method == "sms" && f.Destination != "+14155550111" {
			t.Errorf("sms goes to %s after the phone changed", f.Destination)
		}
	}
	got = okJSON[out](c, "", "user", "update", "alice", "--email", "", "--no-admin", "--disabled", "--json")
	if got.Email != "" || got.Admin || !got.Disabled || !got.APIAccount {
		t.Fatalf("user update --email '' --no-admin --disabled = %+v", got)
	}
	if text := c.ok("", "user", "update", "alice", "--no-disabled"); !strings.Contains(text, "disabled:  false") {
		t.Errorf("user update (text):\n%s", text)
	}

	c.fails("", []string{"user", "update", "alice", "--phone", "12", "--email", "nope"}, "--email: ", "--phone: ")
	c.fails("", []string{"user", "update", "alice"}, "nothing to change")
	c.fails("", []string{"user", "update", "nobody", "--name", "x"}, `no user "nobody"`)
}

// A user's language is a BCP 47 tag, kept in its canonical form; empty
// removes it; anything else is refused naming --locale.
func TestUserLocale(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	type out struct {
		Locale string `json:"locale"`
	}
	if got := okJSON[out](c, "dora-password\n", "user", "create", "--username", "dora", "--locale", "DE-at", "--password-stdin", "--json"); got.Locale != "de-AT" {
		t.Errorf("user create --locale DE-at: locale %q, want de-AT", got.Locale)
	}
	if got := okJSON[out](c, "", "user", "update", "dora", "--locale", "fr", "--json"); got.Locale != "fr" {
		t.Errorf("user update --locale fr: locale %q", got.Locale)
	}
	if text := c.ok("", "user", "show", "dora"); !strings.Contains(text, "locale:") || !strings.Contains(text, "fr") {
		t.Errorf("user show:\n%s", text)
	}
	c.fails("", []string{"user", "update", "dora", "--locale", "not a language"}, `--locale: must be a BCP 47 language tag`)
	c.fails("erin-password\n", []string{"user", "create", "--username", "erin", "--locale", "english!", "--password-stdin"}, "--locale: ")
	if got := okJSON[out](c, "", "user", "update", "dora", "--locale", "", "--json"); got.Locale != "" {
		t.Errorf("user update --locale '': locale %q", got.Locale)
	}
}

// Errors of the user commands name the flag the bad value came in.
func TestUserErrorsNameTheFlag(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("bob-password\n", "user", "create", "--username", "bob", "--password-stdin")
	c.fails("\U0001F510\U0001F510\U0001F510\U0001F510\n", []string{"user", "create", "--username", "carol", "--password-stdin"},
		"--password-stdin: must be at least 8 characters") // 16 bytes, 4 characters
	c.fails("carol-password\n", []string{"user", "create", "--username", "car ol", "--email", "x", "--password-stdin"}, "--username: ", "--email: ")
	c.fails("bob-the-builder\n", []string{"user", "create", "--username", "bob-the-builder", "--password-stdin"}, "--password-stdin: must not be the username")
	c.fails(strings.Repeat("x", 1100)+"\n", []string{"user", "set-password", "bob", "--password-stdin"}, "--password-stdin: must be at most 1,024 bytes")
	c.fails("", []string{"user", "set-second-factor", "bob", "--methods", "sms,pigeon", "--preferred", "voice"},
		"--methods: sms: bob has no phone number", `--methods: "pigeon" is not sms, voice or email`, `--preferred: "voice" is not one of methods`)
	// Full-width letters are counted as the letters they normalise to.
	c.ok("ｐａｓｓｗｏｒｄ\n", "user", "set-password", "bob", "--password-stdin")
}

func TestUserResetAndUnlock(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	alice := okJSON[userOut](c, "alice-password\n", "user", "create", "--username", "alice", "--phone", "+14155550100", "--password-stdin", "--json")
	c.ok("", "user", "set-second-factor", "alice", "--methods", "sms")
	st := c.store()
	ctx := context.Background()
	if err := st.ReplaceRecoveryCodes(ctx, alice.ID, []string{"h1", "h2"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("", "user", "reset-second-factor", "alice"); !strings.Contains(out, "Removed every second-factor method and recovery code of alice") {
		t.Errorf("reset-second-factor = %q", out)
	}
	if factors, err := st.SecondFactors(ctx, alice.ID); err != nil || len(factors) != 0 {
		t.Errorf("after reset: factors %+v, %v", factors, err)
	}
	if left, err := st.RecoveryCodesLeft(ctx, alice.ID); err != nil || left != 0 {
		t.Errorf("after reset: %d recovery codes, %v", left, err)
	}
	if u, err := st.User(ctx, alice.ID); err != nil || u.SessionsNotBefore == nil {
		t.Errorf("after reset, alice's sessions are not ended: %+v, %v", u, err)
	}

	if _, locked, err := st.AccountFailure(ctx, alice.ID, 1, time.Now()); err != nil || locked == nil {
		t.Fatalf("locking alice: %v, %v", locked, err)
	}
	if got := okJSON[userOut](c, "", "user", "unlock", "alice", "--json"); got.ID != alice.ID {
		t.Errorf("unlock --json = %+v", got)
	}
	if g, err := st.AccountGuard(ctx, alice.ID); !errors.Is(err, storage.ErrNotFound) && (err != nil || g.LockedAt != nil || g.Failures != 0) {
		t.Errorf("after unlock: %+v, %v", g, err)
	}
	c.fails("", []string{"user", "unlock", "nobody"}, `no user "nobody"`)
	c.fails("", []string{"user", "reset-second-factor", "nobody"}, `no user "nobody"`)
	for typ, n := range map[string]int{"second_factor_reset": 1, "account_unlocked": 1} {
		events, err := st.AuditEvents(ctx, storage.AuditFilter{Type: typ})
		if err != nil || len(events) != n || events[0].Actor != "cli" || events[0].UserID != alice.ID {
			t.Errorf("%s events = %+v, %v", typ, events, err)
		}
	}
}

type auditPageOut struct {
	Events []struct {
		ID     int64  `json:"id"`
		Type   string `json:"type"`
		Actor  string `json:"actor"`
		UserID string `json:"user_id"`
	} `json:"events"`
	NextCursor string `json:"next_cursor"`
}

func TestAuditList(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	alice := okJSON[userOut](c, "alice-password\n", "user", "create", "--username", "alice", "--password-stdin", "--json")
	c.ok("bob-password\n", "user", "create", "--username", "bob", "--password-stdin")
	c.ok("", "user", "disable", "alice")

	page := okJSON[auditPageOut](c, "", "audit", "list", "--json")
	if len(page.Events) != 3 || page.Events[0].Type != "user_disabled" || page.Events[0].Actor != "cli" || page.NextCursor != "" {
		t.Fatalf("audit list = %+v", page)
	}
	if got := okJSON[auditPageOut](c, "", "audit", "list", "--user", "alice", "--json"); len(got.Events) != 2 || got.Events[1].UserID != alice.ID {
		t.Errorf("audit list --user alice = %+v", got)
	}
	if got := okJSON[auditPageOut](c, "", "audit", "list", "--type", "user_created", "--json"); len(got.Events) != 2 {
		t.Errorf("audit list --type user_created = %+v", got)
	}
	first := okJSON[auditPageOut](c, "", "audit", "list", "--limit", "1", "--json")
	second := okJSON[auditPageOut](c, "", "audit", "list", "--limit", "1", "--cursor", first.NextCursor, "--json")
	if first.NextCursor == "" || len(second.Events) != 1 || second.Events[0].ID >= first.Events[0].ID {
		t.Errorf("pages: %+v then %+v", first, second)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if got := okJSON[auditPageOut](c, "", "audit", "list", "--since", future, "--json"); len(got.Events) != 0 {
		t.Errorf("audit list --since the future = %+v", got)
	}
	text := c.ok("", "audit", "list", "--limit", "2")
	if !strings.Contains(text, "user_disabled") || !strings.Contains(text, "cli") || !strings.Contains(text, "--cursor ") {
		t.Errorf("audit list (text):\n%s", text)
	}
	c.fails("", []string{"audit", "list", "--since", "yesterday"}, "--since: must be an RFC 3339 time")
	c.fails("", []string{"audit", "list", "--limit", "5000"}, "--limit: must be 1 to 500")
	c.fails("", []string{"audit", "list", "--cursor", "abc"}, "--cursor: not a cursor")
}

// TestEveryCLIWriteAuditedOnce: each command that changes state records
// exactly one audit event (one per new key for keys rotate), with the
// actor cli.
func TestEveryCLIWriteAuditedOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	st := c.store()
	ctx := context.Background()
	seen := 0
	step := func(stdin, typ string, n int, args ...string) {
		t.Helper()
		c.ok(stdin, args...)
		events, err := st.AuditEvents(ctx, storage.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		fresh := events[:len(events)-seen]
		seen = len(events)
		if len(fresh) != n {
			t.Errorf("twofold %s: %d audit events, want %d: %+v", strings.Join(args, " "), len(fresh), n, fresh)
			return
		}
		for _, e := range fresh {
			if e.Type != typ || e.Actor != "cli" {
				t.Errorf("twofold %s: event %s by %s, want %s by cli", strings.Join(args, " "), e.Type, e.Actor, typ)
			}
		}
	}
	created := okJSON[clientOut](c, "", "client", "create", "--id", "wiki", "--name", "Wiki", "--redirect-uri", "https://wiki.example/cb", "--json")
	c.secret(*created.ClientSecret)
	seen = 1
	step("", "client_updated", 1, "client", "update", "wiki", "--name", "Team wiki")
	step("", "client_secret_rotated", 1, "client", "rotate-secret", "wiki", "--json")
	step("alice-password\n", "user_created", 1, "user", "create", "--username", "alice", "--phone", "+14155550100", "--password-stdin")
	step("", "user_updated", 1, "user", "update", "alice", "--name", "Alice")
	step("", "user_updated", 1, "user", "set-api-account", "alice")
	step("", "user_updated", 1, "user", "set-admin", "alice")
	step("", "user_disabled", 1, "user", "disable", "alice")
	step("", "user_enabled", 1, "user", "enable", "alice")
	step("another-password\n", "password_set", 1, "user", "set-password", "alice", "--password-stdin")
	step("", "second_factor_set", 1, "user", "set-second-factor", "alice", "--methods", "sms")
	step("", "second_factor_reset", 1, "user", "reset-second-factor", "alice")
	step("", "account_unlocked", 1, "user", "unlock", "alice")
	step("", "policy_set", 1, "policy", "set", "--global", "--methods", "sms,totp")
	step("", "policy_deleted", 1, "policy", "delete", "--global")
	step("", "sessions_revoked", 1, "session", "revoke", "--user", "alice")
	step("", "sessions_revoked_all", 1, "session", "revoke", "--all")
	step("", "signing_key_rotated", 2, "keys", "rotate")
	step("", "user_deleted", 1, "user", "delete", "alice")
	step("", "client_deleted", 1, "client", "delete", "wiki")
	boot := c.ok("", "admin", "bootstrap", "--json")
	c.secret(strings.Split(strings.SplitN(boot, `"client_secret": "`, 2)[1], `"`)[0])
	events, err := st.AuditEvents(ctx, storage.AuditFilter{Limit: 1})
	if err != nil || len(events) != 1 || events[0].Type != "client_created" || events[0].Actor != "cli" {
		t.Errorf("admin bootstrap: newest event %+v, %v", events, err)
	}
}
