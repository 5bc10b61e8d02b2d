package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/storage"
)

// The endpoints the command line had alone (reset a second factor, unlock,
// signing keys), the policy PATCH, and errors that name the JSON field.

func TestAdminAPIResetAndUnlock(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		api, bootID := bootstrapAdmin(t, s)
		aliceID := s.CreateUser(t, "alice", "alice-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		b := s.NewBrowser(t)
		app.Login(b, "alice", "alice-password")
		api.want(200, "PATCH", "/users/alice", map[string]any{"email": "alice@example.com"})
		api.want(200, "PUT", "/users/alice/second-factors", map[string]any{"methods": []string{"email"}})
		ctx := context.Background()
		if err := s.App.Store.ReplaceRecoveryCodes(ctx, aliceID, []string{"h1"}, s.Clock.Now()); err != nil {
			t.Fatal(err)
		}

		// Reset: no method, no recovery code, the session ended.
		s.Clock.Advance(time.Second)
		u := api.want(200, "POST", "/users/alice/reset-second-factor", nil)
		if u["id"] != aliceID {
			t.Fatalf("reset = %v", u)
		}
		if got := api.want(200, "GET", "/users/alice", nil); len(list(got["second_factors"])) != 0 {
			t.Fatalf("after reset: %v", got)
		}
		if left, err := s.App.Store.RecoveryCodesLeft(ctx, aliceID); err != nil || left != 0 {
			t.Errorf("after reset: %d recovery codes, %v", left, err)
		}
		if f := app.Start(b, nil); f.Page.Field("authRequestID") == "" {
			t.Fatalf("the session survived the reset: %s", f.Page)
		}
		app.Login(s.NewBrowser(t), "alice", "alice-password") // the password alone now

		// Unlock: a locked account refuses the right password until then.
		if _, locked, err := s.App.Store.AccountFailure(ctx, aliceID, 1, s.Clock.Now()); err != nil || locked == nil {
			t.Fatalf("locking alice: %v, %v", locked, err)
		}
		if f := app.Start(s.NewBrowser(t), nil).Password("alice", "alice-password"); f.Page.Status != http.StatusUnauthorized {
			t.Fatalf("a locked account signed in: %s", f.Page)
		}
		if u := api.want(200, "POST", "/users/"+aliceID+"/unlock", nil); u["username"] != "alice" {
			t.Fatalf("unlock = %v", u)
		}
		app.Login(s.NewBrowser(t), "alice", "alice-password")

		for _, path := range []string{"/users/nobody/reset-second-factor", "/users/nobody/unlock"} {
			api.wantError(404, admin.CodeNotFound, "id", "POST", path, nil)
		}
		api.wantError(400, admin.CodeInvalidArgument, "force", "POST", "/users/alice/unlock", map[string]any{"force": true})
		for _, typ := range []string{"second_factor_reset", "account_unlocked"} {
			if actors := auditActors(t, api, typ); len(actors) != 1 || actors[0] != "client:"+bootID {
				t.Errorf("%s actors = %v, want client:%s once", typ, actors, bootID)
			}
		}
	})
}

func TestAdminAPIKeys(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		api, bootID := bootstrapAdmin(t, s)
		before := list(api.want(200, "GET", "/keys", nil)["keys"])
		if len(before) != 2 || obj(before[0])["active"] != true || obj(before[0])["kid"] == "" {
			t.Fatalf("keys = %v, want the active RS256 and ES256 keys", before)
		}
		rotated := list(api.want(200, "POST", "/keys/rotate", nil)["keys"])
		if len(rotated) != 2 || obj(rotated[0])["algorithm"] != "RS256" || obj(rotated[1])["algorithm"] != "ES256" {
			t.Fatalf("rotate = %v", rotated)
		}
		after := list(api.want(200, "GET", "/keys", nil)["keys"])
		active := map[string]bool{}
		for _, k := range after {
			if obj(k)["active"] == true {
				active[obj(k)["kid"].(string)] = true
			} else if obj(k)["visible_until"] == nil {
				t.Errorf("a retired key without visible_until: %v", k)
			}
		}
		if len(after) != 4 || len(active) != 2 || !active[obj(rotated[0])["kid"].(string)] || !active[obj(rotated[1])["kid"].(string)] {
			t.Fatalf("keys after rotate = %v", after)
		}
		if body := strings.ToLower(string(api.do("GET", "/keys", nil).Body)); strings.Contains(body, "private") || strings.Contains(body, `"d"`) {
			t.Fatalf("the key list shows private key material: %s", body)
		}
		if actors := auditActors(t, api, "signing_key_rotated"); len(actors) != 2 || actors[0] != "client:"+bootID {
			t.Errorf("signing_key_rotated actors = %v", actors)
		}
		api.wantError(400, admin.CodeInvalidArgument, "algorithm", "POST", "/keys/rotate", map[string]any{"algorithm": "HS256"})
	})
}

func TestAdminAPIPolicyPatch(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		api, _ := bootstrapAdmin(t, s)
		s.CreateUser(t, "alice", "alice-password")
		payroll := s.NewRP(t, testkit.ClientOptions{Name: "Payroll"})
		path := "/policies/clients/" + payroll.ID

		// A PATCH on a level without a policy makes one.
		p := api.want(200, "PATCH", path, map[string]any{"allowed_methods": []string{"sms", "totp"}})
		if p["scope"] != "client" || p["target"] != payroll.ID || len(list(p["allowed_methods"])) != 2 {
			t.Fatalf("first PATCH = %v", p)
		}
		// Another setting: the methods are kept.
		p = api.want(200, "PATCH", path, map[string]any{"second_factor": "required"})
		if p["second_factor"] != "required" || len(list(p["allowed_methods"])) != 2 {
			t.Fatalf("second PATCH = %v, want the methods kept", p)
		}
		// null: inherit again.
		p = api.want(200, "PATCH", path, `{"allowed_methods": null, "code_ttl": "2m"}`)
		if p["allowed_methods"] != nil || p["code_ttl"] != "2m" || p["second_factor"] != "required" {
			t.Fatalf("PATCH with null = %v", p)
		}
		// PUT replaces the whole policy.
		p = api.want(200, "PUT", path, map[string]any{"max_attempts": 3})
		if p["max_attempts"] != float64(3) || p["second_factor"] != nil || p["code_ttl"] != nil {
			t.Fatalf("PUT = %v, want the rest inherited", p)
		}
		api.want(200, "PATCH", "/policies/global", map[string]any{"session_lifetime": "30d"})
		api.want(200, "PATCH", "/policies/users/alice", map[string]any{"idle_timeout": "1h"})
		if got := list(api.want(200, "GET", "/policies", nil)["policies"]); len(got) != 3 {
			t.Fatalf("policies = %v", got)
		}

		for _, tc := range []struct {
			field string
			body  any
		}{
			{"code_ttl", map[string]any{"code_ttl": "5h"}},
			{"allowed_methods", map[string]any{"allowed_methods": []string{}}},
			{"allowed_methods", map[string]any{"allowed_methods": []string{"pigeon"}}},
			{"code_digits", map[string]any{"code_digits": "six"}},
			{"colour", map[string]any{"colour": "blue"}},
			{"colour", `{"colour": null}`},
			{"", map[string]any{}},
		} {
			api.wantError(400, admin.CodeInvalidArgument, tc.field, "PATCH", path, tc.body)
		}
		api.wantError(404, admin.CodeNotFound, "client", "PATCH", "/policies/clients/nope", map[string]any{"max_attempts": 3})
		api.wantError(404, admin.CodeNotFound, "user", "PATCH", "/policies/users/nobody", map[string]any{"max_attempts": 3})
		if p := api.want(200, "GET", path, nil); p["max_attempts"] != float64(3) {
			t.Errorf("refused patches changed the policy: %v", p)
		}
	})
}

// TestAdminAPIErrorsNameFields: a problem names the API's field, several
// are listed at once, and no message names a command-line flag.
func TestAdminAPIErrorsNameFields(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	api, _ := bootstrapAdmin(t, s)
	s.CreateUser(t, "bob", "bob-password")
	check := func(r apiResp, want ...string) {
		t.Helper()
		e := obj(r.JSON(t)["error"])
		if r.Status != 400 || e["code"] != admin.CodeInvalidArgument || e["field"] != want[0] {
			t.Fatalf("status %d, error %v; want invalid_argument on %s", r.Status, e, want[0])
		}
		var fields []string
		for _, f := range list(e["errors"]) {
			fields = append(fields, obj(f)["field"].(string))
		}
		if len(want) > 1 && strings.Join(fields, ",") != strings.Join(want, ",") {
			t.Errorf("errors name %v, want %v", fields, want)
		}
		if strings.Contains(string(r.Body), "--") {
			t.Errorf("an API error names a flag: %s", r.Body)
		}
	}
	check(api.do("POST", "/clients", map[string]any{"name": "X", "redirect_uris": []string{"http://evil.example/cb"},
		"grant_types": []string{"authorization_code", "implicit"}, "application_type": "desktop"}),
		"application_type", "grant_types", "redirect_uris")
	check(api.do("POST", "/clients", map[string]any{"name": "X", "public": true, "grant_types": []string{"client_credentials"}}), "grant_types")
	check(api.do("POST", "/clients", map[string]any{"name": "X", "redirect_uris": []string{"com.example.app:/cb"}}), "redirect_uris")
	check(api.do("POST", "/users", map[string]any{"username": "a b", "email": "nope", "password": "\U0001F510\U0001F510\U0001F510\U0001F510"}),
		"username", "email", "password")
	check(api.do("POST", "/users", map[string]any{"username": "carol", "password": "\U0001F510\U0001F510\U0001F510\U0001F510"}), "password")
	check(api.do("POST", "/users/bob/password", map[string]any{"password": "bob"}), "password")
	// Four accented letters typed as letter + combining accent: eight code
	// points, four characters after NFKC.
	check(api.do("POST", "/users/bob/password", map[string]any{"password": strings.Repeat("e\u0301", 4)}), "password")
	check(api.do("POST", "/users", map[string]any{"username": "bob-the-builder", "password": "Bob-The-Builder"}), "password")
	check(api.do("POST", "/users/bob/password", map[string]any{"password": strings.Repeat("é", 513)}), "password")
	check(api.do("PATCH", "/users/bob", map[string]any{"email": "nope", "phone": "12"}), "email", "phone")
	check(api.do("PUT", "/users/bob/second-factors", map[string]any{"methods": []string{"sms", "pigeon"}, "preferred": "voice"}),
		"methods", "methods", "preferred")
	r := api.do("POST", "/users/bob/password", map[string]any{"password": "ｂｏｂｐａｓｓｗｏｒｄ"}) // full width: 11 characters
	if r.Status != http.StatusNoContent {
		t.Errorf("a full-width password: %d %s", r.Status, r.Body)
	}
	msg := obj(api.do("POST", "/users", map[string]any{"username": "dave", "password": "short"}).JSON(t)["error"])["message"]
	if msg != "must be at least 8 characters" {
		t.Errorf("short password message = %q", msg)
	}
}

// TestAdminAPIAuditsEveryWriteOnce: each write of the API records exactly
// one audit event (one per new key for a key rotation), with the calling
// client as actor.
func TestAdminAPIAuditsEveryWriteOnce(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	api, bootID := bootstrapAdmin(t, s)
	ctx := context.Background()
	count := func() []storage.AuditEvent {
		events, err := s.App.Store.AuditEvents(ctx, storage.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	seen := len(count())
	step := func(status int, method, path string, body any, typ string, n int) {
		t.Helper()
		api.want(status, method, path, body)
		events := count()
		fresh := events[:len(events)-seen]
		seen = len(events)
		if len(fresh) != n {
			t.Errorf("%s %s: %d audit events, want %d: %+v", method, path, len(fresh), n, fresh)
			return
		}
		for _, e := range fresh {
			if e.Type != typ || e.Actor != "client:"+bootID {
				t.Errorf("%s %s: event %s by %s, want %s by client:%s", method, path, e.Type, e.Actor, typ, bootID)
			}
		}
	}
	step(201, "POST", "/clients", map[string]any{"client_id": "wiki", "name": "Wiki", "redirect_uris": []string{"https://wiki.example/cb"}}, "client_created", 1)
	step(200, "PATCH", "/clients/wiki", map[string]any{"name": "Team wiki"}, "client_updated", 1)
	step(200, "POST", "/clients/wiki/rotate-secret", nil, "client_secret_rotated", 1)
	step(201, "POST", "/users", map[string]any{"username": "alice", "phone": "+14155550100", "password": "alice-password"}, "user_created", 1)
	step(200, "PATCH", "/users/alice", map[string]any{"name": "Alice"}, "user_updated", 1)
	step(200, "POST", "/users/alice/disable", nil, "user_disabled", 1)
	step(200, "POST", "/users/alice/enable", nil, "user_enabled", 1)
	step(204, "POST", "/users/alice/password", map[string]any{"password": "another-password"}, "password_set", 1)
	step(200, "PUT", "/users/alice/second-factors", map[string]any{"methods": []string{"sms"}}, "second_factor_set", 1)
	step(200, "POST", "/users/alice/reset-second-factor", nil, "second_factor_reset", 1)
	step(200, "POST", "/users/alice/unlock", nil, "account_unlocked", 1)
	step(200, "PUT", "/policies/global", map[string]any{"code_ttl": "2m"}, "policy_set", 1)
	step(200, "PATCH", "/policies/global", map[string]any{"max_attempts": 3}, "policy_set", 1)
	step(204, "DELETE", "/policies/global", nil, "policy_deleted", 1)
	step(200, "POST", "/sessions/revoke", map[string]any{"user": "alice"}, "sessions_revoked", 1)
	step(200, "POST", "/keys/rotate", nil, "signing_key_rotated", 2)
	step(204, "DELETE", "/users/alice", nil, "user_deleted", 1)
	step(204, "DELETE", "/clients/wiki", nil, "client_deleted", 1)
	step(200, "POST", "/sessions/revoke", map[string]any{"all": true}, "sessions_revoked_all", 1)
}
