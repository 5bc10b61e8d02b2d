package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/testkit"
)

// adminAPI calls /admin/api/v1 with a bearer token.
type adminAPI struct {
	t     *testing.T
	s     *testkit.Server
	token string
}

// apiResp is one answer of the admin API.
type apiResp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r apiResp) JSON(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("answer is not a JSON object (status %d): %v\n%s", r.Status, err, r.Body)
	}
	return v
}

// bootstrapAdmin creates the first admin client as `twofold admin
// bootstrap` does and returns an API caller with its token.
func bootstrapAdmin(t *testing.T, s *testkit.Server) (*adminAPI, string) {
	t.Helper()
	rec, secret, err := s.App.Admin(nil, nil).Bootstrap(context.Background(), admin.CLI, "ops")
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return &adminAPI{t: t, s: s, token: clientToken(t, s, rec.ID, secret, admin.Scope)}, rec.ID
}

// clientToken gets an access token with the client_credentials grant.
func clientToken(t *testing.T, s *testkit.Server, id, secret string, scopes ...string) string {
	t.Helper()
	party, err := rp.NewRelyingPartyOIDC(context.Background(), s.URL, id, secret, "", scopes,
		rp.WithHTTPClient(&http.Client{Transport: s.Transport()}))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := rp.ClientCredentials(context.Background(), party, nil)
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	return tok.AccessToken
}

func (a *adminAPI) with(token string) *adminAPI { return &adminAPI{t: a.t, s: a.s, token: token} }

// raw sends a request with the given content type and body.
func (a *adminAPI) raw(method, path, contentType string, body io.Reader) apiResp {
	a.t.Helper()
	req, err := http.NewRequest(method, a.s.URL+admin.Prefix+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := (&http.Client{Transport: a.s.Transport()}).Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		a.t.Fatalf("%s %s: %d (never a 500 for input):\n%s", method, path, resp.StatusCode, data)
	}
	return apiResp{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// do sends body (nil for none; a string is sent as is) as JSON.
func (a *adminAPI) do(method, path string, body any) apiResp {
	a.t.Helper()
	if body == nil {
		return a.raw(method, path, "", nil)
	}
	data, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		data = string(b)
	}
	return a.raw(method, path, "application/json", strings.NewReader(data))
}

// want checks the status and returns the decoded answer (nil for 204).
func (a *adminAPI) want(status int, method, path string, body any) map[string]any {
	a.t.Helper()
	r := a.do(method, path, body)
	if r.Status != status {
		a.t.Fatalf("%s %s: status %d, want %d:\n%s", method, path, r.Status, status, r.Body)
	}
	if status == http.StatusNoContent {
		return nil
	}
	return r.JSON(a.t)
}

// wantError checks an error answer: status, stable code and field.
func (a *adminAPI) wantError(status int, code, field, method, path string, body any) {
	a.t.Helper()
	out := a.want(status, method, path, body)
	e, _ := out["error"].(map[string]any)
	if e == nil || e["code"] != code || (field != "" && e["field"] != field) || e["message"] == "" {
		a.t.Fatalf("%s %s: error = %v, want code %s field %q", method, path, out, code, field)
	}
}

func list(v any) []any { l, _ := v.([]any); return l }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// auditActors returns the actors of the newest events of a type.
func auditActors(t *testing.T, api *adminAPI, typ string) []string {
	t.Helper()
	var out []string
	for _, e := range list(api.want(200, "GET", "/audit?type="+typ, nil)["events"]) {
		out = append(out, obj(e)["actor"].(string))
	}
	return out
}

func TestAdminAPIAuthorization(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		api, bootID := bootstrapAdmin(t, s)
		api.want(200, "GET", "/users", nil)

		// No token, a bad token: 401 with a Bearer challenge.
		for _, tok := range []string{"", "not-a-token"} {
			r := api.with(tok).do("GET", "/users", nil)
			if r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") ||
				obj(r.JSON(t)["error"])["code"] != admin.CodeUnauthenticated {
				t.Fatalf("token %q: %d %v %s", tok, r.Status, r.Header, r.Body)
			}
		}
		// A valid token without the scope: 403.
		machine := s.NewRP(t, testkit.ClientOptions{GrantTypes: []string{"client_credentials"}})
		noScope := api.with(clientToken(t, s, machine.ID, machine.Secret, admin.Scope))
		noScope.wantError(403, admin.CodeForbidden, "", "GET", "/clients", nil)

		// A user's token: needs the scope (granted to the client) and the admin role.
		aliceID := s.CreateUser(t, "alice", "alice-password")
		web := s.NewRP(t, testkit.ClientOptions{})
		api.want(200, "PATCH", "/clients/"+web.ID, map[string]any{"scopes": []string{admin.Scope}})
		party, err := rp.NewRelyingPartyOIDC(context.Background(), s.URL, web.ID, web.Secret, web.RedirectURI,
			[]string{oidc.ScopeOpenID, admin.Scope}, rp.WithHTTPClient(&http.Client{Transport: s.Transport()}))
		if err != nil {
			t.Fatal(err)
		}
		web.Party = party
		user := api.with(web.Login(s.NewBrowser(t), "alice", "alice-password").AccessToken)
		user.wantError(403, admin.CodeForbidden, "", "GET", "/users", nil)
		api.want(200, "PATCH", "/users/alice", map[string]any{"admin": true})
		user.want(200, "GET", "/users", nil)
		user.want(200, "PUT", "/policies/global", map[string]any{"second_factor": "optional"})
		if actors := auditActors(t, api, "policy_set"); len(actors) == 0 || actors[0] != "user:"+aliceID {
			t.Errorf("policy_set actors = %v, want user:%s", actors, aliceID)
		}
		if actors := auditActors(t, api, "user_updated"); len(actors) == 0 || actors[0] != "client:"+bootID {
			t.Errorf("user_updated actors = %v, want client:%s", actors, bootID)
		}
		// Without the scope the same admin user is refused.
		plain := s.NewRP(t, testkit.ClientOptions{Name: "Plain"})
		api.with(plain.Login(s.NewBrowser(t), "alice", "alice-password").AccessToken).
			wantError(403, admin.CodeForbidden, "", "GET", "/users", nil)
		// Ending alice's sessions ends her admin token too.
		api.want(200, "POST", "/sessions/revoke", map[string]any{"user": "alice"})
		user.wantError(401, admin.CodeUnauthenticated, "", "GET", "/users", nil)
		// Deleting the bootstrap client revokes its token.
		api.want(204, "DELETE", "/clients/"+bootID, nil)
		api.wantError(401, admin.CodeUnauthenticated, "", "GET", "/users", nil)
	})
}

func TestAdminAPIClients(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		api, bootID := bootstrapAdmin(t, s)
		created := api.want(201, "POST", "/clients", map[string]any{"client_id": "wiki", "name": "Wiki",
			"redirect_uris": []string{"https://wiki.example/cb"}})
		secret, _ := created["client_secret"].(string)
		if created["client_id"] != "wiki" || len(secret) < 43 || created["token_endpoint_auth_method"] != "client_secret_basic" {
			t.Fatalf("create = %v", created)
		}
		ids := map[string]bool{}
		for _, c := range list(api.want(200, "GET", "/clients", nil)["clients"]) {
			ids[obj(c)["client_id"].(string)] = true
		}
		if !ids["wiki"] || !ids[bootID] || strings.Contains(string(api.do("GET", "/clients", nil).Body), secret) {
			t.Fatalf("list = %v", ids)
		}
		if one := api.want(200, "GET", "/clients/wiki", nil); one["name"] != "Wiki" || one["client_secret"] != nil {
			t.Fatalf("get = %v", one)
		}
		patched := api.want(200, "PATCH", "/clients/wiki", map[string]any{"name": "Team wiki",
			"redirect_uris": []string{"https://wiki.example/cb", "https://wiki.example/cb2"}, "access_token_format": "jwt"})
		if patched["name"] != "Team wiki" || len(list(patched["redirect_uris"])) != 2 || patched["access_token_format"] != "jwt" {
			t.Fatalf("patch = %v", patched)
		}
		rotated := api.want(200, "POST", "/clients/wiki/rotate-secret", nil)
		if rotated["client_secret"] == secret || len(rotated["client_secret"].(string)) < 43 {
			t.Fatalf("rotate = %v", rotated)
		}
		public := api.want(201, "POST", "/clients", map[string]any{"name": "SPA", "public": true,
			"redirect_uris": []string{"http://localhost:3000/cb"}})
		if public["client_secret"] != nil || public["token_endpoint_auth_method"] != "none" {
			t.Fatalf("public client = %v", public)
		}

		// Errors: the field named, unknown ids 404, clashes 409.
		api.wantError(400, admin.CodeInvalidArgument, "name", "POST", "/clients", map[string]any{"redirect_uris": []string{"https://a.example/cb"}})
		api.wantError(400, admin.CodeInvalidArgument, "redirect_uris", "POST", "/clients", map[string]any{"name": "X",
			"redirect_uris": []string{"http://evil.example/cb"}})
		api.wantError(400, admin.CodeInvalidArgument, "grant_types", "POST", "/clients", map[string]any{"name": "X", "grant_types": []string{"password"}})
		api.wantError(400, admin.CodeInvalidArgument, "scopes", "POST", "/clients", map[string]any{"name": "X",
			"grant_types": []string{"client_credentials"}, "scopes": []string{"root"}})
		api.wantError(400, admin.CodeInvalidArgument, "secret", "POST", "/clients", map[string]any{"name": "X", "secret": "s"})
		api.wantError(409, admin.CodeConflict, "client_id", "POST", "/clients", map[string]any{"client_id": "wiki", "name": "Again",
			"redirect_uris": []string{"https://wiki.example/cb"}})
		api.wantError(400, admin.CodeInvalidArgument, "redirect_uris", "PATCH", "/clients/wiki", map[string]any{"redirect_uris": []string{"https://x.example/*"}})
		api.wantError(400, admin.CodeInvalidArgument, "token_endpoint_auth_method", "PATCH", "/clients/wiki", map[string]any{"token_endpoint_auth_method": "none"})
		api.wantError(409, admin.CodeConflict, "id", "POST", "/clients/"+public["client_id"].(string)+"/rotate-secret", nil)
		api.wantError(400, admin.CodeInvalidArgument, "backchannel_logout_uri", "PATCH", "/clients/wiki", map[string]any{"backchannel_logout_uri": "http://wiki.example/bc"})
		if c := api.want(200, "PATCH", "/clients/wiki", map[string]any{"backchannel_logout_uri": "https://wiki.example/bc"}); c["backchannel_logout_uri"] != "https://wiki.example/bc" || c["name"] != "Team wiki" {
			t.Fatalf("patch backchannel_logout_uri = %v", c)
		}
		// The signing algorithm: RS256, ES256, or empty for keys.algorithm.
		if c := api.want(200, "PATCH", "/clients/wiki", map[string]any{"id_token_signed_response_alg": "ES256"}); c["id_token_signed_response_alg"] != "ES256" || c["name"] != "Team wiki" {
			t.Fatalf("patch id_token_signed_response_alg = %v", c)
		}
		if c := api.want(200, "PATCH", "/clients/wiki", map[string]any{"id_token_signed_response_alg": ""}); c["id_token_signed_response_alg"] != "" {
			t.Fatalf("patch id_token_signed_response_alg back to the default = %v", c)
		}
		api.wantError(400, admin.CodeInvalidArgument, "id_token_signed_response_alg", "PATCH", "/clients/wiki", map[string]any{"id_token_signed_response_alg": "none"})
		api.wantError(400, admin.CodeInvalidArgument, "id_token_signed_response_alg", "POST", "/clients", map[string]any{"name": "X",
			"redirect_uris": []string{"https://x.example/cb"}, "id_token_signed_response_alg": "HS256"})
		if c := api.want(201, "POST", "/clients", map[string]any{"name": "Fast", "redirect_uris": []string{"https://fast.example/cb"},
			"id_token_signed_response_alg": "ES256"}); c["id_token_signed_response_alg"] != "ES256" {
			t.Fatalf("create with id_token_signed_response_alg = %v", c)
		}
		for _, r := range []struct{ method, path string }{{"GET", "/clients/nope"}, {"PATCH", "/clients/nope"},
			{"DELETE", "/clients/nope"}, {"POST", "/clients/nope/rotate-secret"}} {
			var body any
			if r.method == "PATCH" {
				body = map[string]any{"name": "x"}
			}
			api.wantError(404, admin.CodeNotFound, "", r.method, r.path, body)
		}
		api.want(204, "DELETE", "/clients/wiki", nil)
		api.wantError(404, admin.CodeNotFound, "", "GET", "/clients/wiki", nil)
		if actors := auditActors(t, api, "client_deleted"); len(actors) != 1 || actors[0] != "client:"+bootID {
			t.Errorf("client_deleted actors = %v", actors)
		}
	})
}

func TestAdminAPIUsers(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		api, _ := bootstrapAdmin(t, s)
		alice := api.want(201, "POST", "/users", map[string]any{"username": "Alice", "name": "Alice A",
			"email": "Alice@Example.com", "phone": "+1 (415) 555-0100", "password": "alice-password"})
		id := alice["id"].(string)
		if alice["username"] != "alice" || alice["phone"] != "+14155550100" || alice["password"] != nil {
			t.Fatalf("create = %v", alice)
		}
		for _, name := range []string{"bob", "carol", "dave"} {
			api.want(201, "POST", "/users", map[string]any{"username": name, "password": name + "-password"})
		}
		api.wantError(409, admin.CodeConflict, "username", "POST", "/users", map[string]any{"username": "ALICE", "password": "long-enough"})
		api.wantError(400, admin.CodeInvalidArgument, "username", "POST", "/users", map[string]any{"username": "a b", "password": "long-enough"})
		api.wantError(400, admin.CodeInvalidArgument, "email", "POST", "/users", map[string]any{"username": "e", "email": "nope", "password": "long-enough"})
		api.wantError(400, admin.CodeInvalidArgument, "phone", "POST", "/users", map[string]any{"username": "p", "phone": "12", "password": "long-enough"})
		api.wantError(400, admin.CodeInvalidArgument, "password", "POST", "/users", map[string]any{"username": "p", "password": "short"})
		missing := api.want(400, "POST", "/users", map[string]any{"username": "p"})
		if e := obj(missing["error"]); e["field"] != "password" || !strings.Contains(e["message"].(string), "required") {
			t.Fatalf("create without a password: %v, want the field named as required", missing)
		}
		api.wantError(400, admin.CodeInvalidArgument, "password_hash", "POST", "/users", map[string]any{"username": "p", "password_hash": "x"})

		// Pages of two, by username.
		var names []string
		cursor := ""
		for i := 0; i < 3; i++ {
			page := api.want(200, "GET", "/users?limit=2&cursor="+url.QueryEscape(cursor), nil)
			for _, u := range list(page["users"]) {
				names = append(names, obj(u)["username"].(string))
			}
			cursor, _ = page["next_cursor"].(string)
			if cursor == "" {
				break
			}
		}
		if strings.Join(names, ",") != "alice,bob,carol,dave" {
			t.Fatalf("paged users = %v", names)
		}
		api.wantError(400, admin.CodeInvalidArgument, "limit", "GET", "/users?limit=lots", nil)
		api.wantError(400, admin.CodeInvalidArgument, "limit", "GET", "/users?limit=100000", nil)
		api.wantError(400, admin.CodeInvalidArgument, "cursor", "GET", "/users?cursor=%25%25", nil)

		patched := api.want(200, "PATCH", "/users/"+id, map[string]any{"name": "Alice B", "api_account": true, "phone": "+14155550111"})
		if patched["name"] != "Alice B" || patched["api_account"] != true || patched["phone"] != "+14155550111" {
			t.Fatalf("patch = %v", patched)
		}
		api.wantError(400, admin.CodeInvalidArgument, "phone", "PATCH", "/users/alice", map[string]any{"phone": "call me"})
		api.wantError(400, admin.CodeInvalidArgument, "disabled", "PATCH", "/users/alice", map[string]any{"disabled": "yes"})

		factors := api.want(200, "PUT", "/users/alice/second-factors", map[string]any{"methods": []string{"sms", "email"}, "preferred": "email"})
		if fs := list(factors["second_factors"]); len(fs) != 2 || obj(fs[0])["method"] != "email" || obj(fs[0])["preferred"] != true {
			t.Fatalf("second factors = %v", factors)
		}
		shown := api.want(200, "GET", "/users/alice", nil)
		if len(list(shown["second_factors"])) != 2 || shown["id"] != id {
			t.Fatalf("get = %v", shown)
		}
		// The admin vouched for the destinations.
		if shown["phone_verified"] != true || shown["email_verified"] != true {
			t.Fatalf("after setting sms and email: phone_verified %v, email_verified %v", shown["phone_verified"], shown["email_verified"])
		}
		// A new number moves the methods with it, vouched for as well.
		if moved := api.want(200, "PATCH", "/users/alice", map[string]any{"phone": "+14155550122"}); moved["phone_verified"] != true {
			t.Fatalf("after moving sms to a new number: %v", moved)
		}
		api.wantError(400, admin.CodeInvalidArgument, "methods", "PUT", "/users/alice/second-factors", map[string]any{"methods": []string{"pigeon"}})
		api.wantError(400, admin.CodeInvalidArgument, "methods", "PUT", "/users/bob/second-factors", map[string]any{"methods": []string{"sms"}})
		api.wantError(400, admin.CodeInvalidArgument, "preferred", "PUT", "/users/alice/second-factors", map[string]any{"methods": []string{"sms"}, "preferred": "email"})
		api.wantError(400, admin.CodeInvalidArgument, "methods", "PUT", "/users/alice/second-factors", map[string]any{})
		api.want(200, "PUT", "/users/alice/second-factors", map[string]any{"methods": []string{}})

		// A new password works at once; the old one no longer does.
		api.want(204, "POST", "/users/bob/password", map[string]any{"password": "a brand new password"})
		api.wantError(400, admin.CodeInvalidArgument, "password", "POST", "/users/bob/password", map[string]any{"password": "short"})
		app := s.NewRP(t, testkit.ClientOptions{})
		app.Login(s.NewBrowser(t), "bob", "a brand new password")
		if f := app.Start(s.NewBrowser(t), nil).Password("bob", "bob-password"); f.Page.Field("authRequestID") == "" {
			t.Fatalf("old password accepted: %s", f.Page)
		}

		if u := api.want(200, "POST", "/users/carol/disable", nil); u["disabled"] != true {
			t.Fatalf("disable = %v", u)
		}
		if u := api.want(200, "POST", "/users/carol/enable", nil); u["disabled"] != false {
			t.Fatalf("enable = %v", u)
		}
		api.want(204, "DELETE", "/users/dave", nil)
		for _, r := range []struct {
			method, path string
			body         any
		}{{"GET", "/users/dave", nil}, {"PATCH", "/users/dave", map[string]any{"name": "x"}}, {"DELETE", "/users/dave", nil},
			{"POST", "/users/dave/password", map[string]any{"password": "long-enough"}}, {"POST", "/users/dave/enable", nil},
			{"POST", "/users/dave/disable", nil}, {"PUT", "/users/dave/second-factors", map[string]any{"methods": []string{}}}} {
			api.wantError(404, admin.CodeNotFound, "", r.method, r.path, r.body)
		}
	})
}

func TestAdminAPIPolicies(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		api, _ := bootstrapAdmin(t, s)
		s.CreateUser(t, "alice", "alice-password")
		payroll := s.NewRP(t, testkit.ClientOptions{Name: "Payroll"})

		api.want(200, "PUT", "/policies/global", map[string]any{"second_factor": "optional", "session_lifetime": "30d"})
		p := api.want(200, "PUT", "/policies/clients/"+payroll.ID, map[string]any{"second_factor": "required", "allowed_methods": []string{"sms", "totp"}})
		if p["scope"] != "client" || p["target"] != payroll.ID || p["second_factor"] != "required" {
			t.Fatalf("put client policy = %v", p)
		}
		api.want(200, "PUT", "/policies/users/alice", map[string]any{"second_factor": "off", "idle_timeout": "1h", "code_ttl": "2m"})
		if got := api.want(200, "GET", "/policies/users/alice", nil); got["idle_timeout"] != "1h" || got["code_ttl"] != "2m" {
			t.Fatalf("get user policy = %v", got)
		}
		if got := list(api.want(200, "GET", "/policies", nil)["policies"]); len(got) != 3 {
			t.Fatalf("policies = %v", got)
		}
		x := obj(api.want(200, "GET", "/policies/effective?user=alice&client="+payroll.ID, nil)["fields"])
		for field, want := range map[string][2]any{
			"second_factor": {"required", "client"}, "session_lifetime": {"30d", "global"}, "idle_timeout": {"1h", "user"},
			"code_ttl": {"2m", "user"}, "code_digits": {float64(6), "config"},
		} {
			if got := obj(x[field]); got["value"] != want[0] || got["source"] != want[1] {
				t.Errorf("effective %s = %v, want %v from %v", field, got, want[0], want[1])
			}
		}
		if m := list(obj(x["allowed_methods"])["value"]); len(m) != 2 {
			t.Errorf("allowed methods = %v", m)
		}
		// The client's requirement holds at once for a user without a factor.
		if page := payroll.Start(s.NewBrowser(t), nil).Password("alice", "alice-password").Page; page.Location != "" || !strings.Contains(page.Body, "requires a second factor") {
			t.Fatalf("payroll requires a second factor, alice has none: %s", page)
		}

		for field, body := range map[string]map[string]any{
			"second_factor":    {"second_factor": "always"},
			"allowed_methods":  {"allowed_methods": []string{"carrier-pigeon"}},
			"code_digits":      {"code_digits": 4},
			"code_ttl":         {"code_ttl": 300},
			"session_lifetime": {"session_lifetime": "forever"},
			"idle_timeout":     {"idle_timeout": "5s"},
			"remember_device":  {"remember_device": "1000d"},
			"max_attempts":     {"max_attempts": 0},
			"colour":           {"colour": "blue"},
		} {
			api.wantError(400, admin.CodeInvalidArgument, field, "PUT", "/policies/global", body)
		}
		api.wantError(404, admin.CodeNotFound, "client", "PUT", "/policies/clients/nope", map[string]any{})
		api.wantError(404, admin.CodeNotFound, "user", "PUT", "/policies/users/nobody", map[string]any{})
		api.wantError(404, admin.CodeNotFound, "user", "GET", "/policies/effective?user=nobody", nil)
		api.wantError(404, admin.CodeNotFound, "client", "GET", "/policies/effective?client=nope", nil)
		api.want(204, "DELETE", "/policies/clients/"+payroll.ID, nil)
		api.wantError(404, admin.CodeNotFound, "", "DELETE", "/policies/clients/"+payroll.ID, nil)
		api.wantError(404, admin.CodeNotFound, "", "GET", "/policies/clients/"+payroll.ID, nil)
		api.want(204, "DELETE", "/policies/users/alice", nil)
		api.want(204, "DELETE", "/policies/global", nil)
		api.wantError(404, admin.CodeNotFound, "", "GET", "/policies/global", nil)
		payroll.Login(s.NewBrowser(t), "alice", "alice-password") // password alone again
		if actors := auditActors(t, api, "policy_deleted"); len(actors) != 3 {
			t.Errorf("policy_deleted events = %v", actors)
		}
	})
}

func TestAdminAPISessionsAndAudit(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		api, bootID := bootstrapAdmin(t, s)
		s.CreateUser(t, "alice", "alice-password")
		s.CreateUser(t, "bob", "bob-password")
		app := s.NewRP(t, testkit.ClientOptions{})
		b1, b2, b3 := s.NewBrowser(t), s.NewBrowser(t), s.NewBrowser(t)
		t1 := app.Login(b1, "alice", "alice-password")
		s.Clock.Advance(time.Second) // b2's session is the newer one
		t2 := app.Login(b2, "alice", "alice-password")
		t3 := app.Login(b3, "bob", "bob-password")

		sessions := list(api.want(200, "GET", "/sessions?user=alice", nil)["sessions"])
		if len(sessions) != 2 || obj(sessions[0])["username"] != "alice" || len(list(obj(sessions[0])["clients"])) != 1 {
			t.Fatalf("alice's sessions = %v", sessions)
		}
		if all := list(api.want(200, "GET", "/sessions", nil)["sessions"]); len(all) != 3 {
			t.Fatalf("sessions = %v", all)
		}
		api.wantError(404, admin.CodeNotFound, "user", "GET", "/sessions?user=nobody", nil)

		// One session: the newest is b2's.
		api.want(204, "DELETE", "/sessions/"+obj(sessions[0])["id"].(string), nil)
		api.wantError(404, admin.CodeNotFound, "", "DELETE", "/sessions/nope", nil)
		assertSignedOut(t, s, app, b2, t2)
		assertSignedIn(t, s, app, b1, t1)

		// Every session of a user.
		api.want(200, "POST", "/sessions/revoke", map[string]any{"user": "alice"})
		assertSignedOut(t, s, app, b1, t1)
		assertSignedIn(t, s, app, b3, t3)
		if got := list(api.want(200, "GET", "/sessions?user=alice", nil)["sessions"]); len(got) != 0 {
			t.Fatalf("alice's sessions after revoke = %v", got)
		}

		// Everyone's.
		s.Clock.Advance(time.Second)
		api.want(200, "POST", "/sessions/revoke", map[string]any{"all": true})
		assertSignedOut(t, s, app, b3, t3)
		if got := list(api.want(200, "GET", "/sessions", nil)["sessions"]); len(got) != 0 {
			t.Fatalf("sessions after revoke-all = %v", got)
		}
		s.Clock.Advance(time.Second)
		app.Login(s.NewBrowser(t), "bob", "bob-password") // new sign-ins work

		api.wantError(400, admin.CodeInvalidArgument, "user", "POST", "/sessions/revoke", map[string]any{})
		api.wantError(400, admin.CodeInvalidArgument, "all", "POST", "/sessions/revoke", map[string]any{"user": "bob", "all": true})
		api.wantError(404, admin.CodeNotFound, "user", "POST", "/sessions/revoke", map[string]any{"user": "nobody"})

		// The audit log: newest first, filtered, paged by id.
		events := list(api.want(200, "GET", "/audit?client="+"&type=session_revoked", nil)["events"])
		if len(events) != 1 || obj(events[0])["actor"] != "client:"+bootID {
			t.Fatalf("session_revoked events = %v", events)
		}
		if got := list(api.want(200, "GET", "/audit?user=alice&type=sessions_revoked", nil)["events"]); len(got) != 1 {
			t.Fatalf("alice's sessions_revoked events = %v", got)
		}
		first := api.want(200, "GET", "/audit?limit=1", nil)
		cursor, _ := first["next_cursor"].(string)
		second := api.want(200, "GET", "/audit?limit=1&cursor="+cursor, nil)
		id1, id2 := obj(list(first["events"])[0])["id"].(float64), obj(list(second["events"])[0])["id"].(float64)
		if cursor == "" || id2 >= id1 {
			t.Fatalf("pages: %v then %v", first, second)
		}
		future := s.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		if got := list(api.want(200, "GET", "/audit?since="+url.QueryEscape(future), nil)["events"]); len(got) != 0 {
			t.Fatalf("events since the future = %v", got)
		}
		api.wantError(400, admin.CodeInvalidArgument, "since", "GET", "/audit?since=yesterday", nil)
		api.wantError(400, admin.CodeInvalidArgument, "cursor", "GET", "/audit?cursor=abc", nil)
		api.wantError(400, admin.CodeInvalidArgument, "limit", "GET", "/audit?limit=0x10", nil)
		api.wantError(400, admin.CodeInvalidArgument, "limit", "GET", "/audit?limit=5000", nil)
	})
}

// assertSignedOut checks that a browser's SSO session, its refresh token
// and its access token (introspection) all stopped working.
func assertSignedOut(t *testing.T, s *testkit.Server, app *testkit.RP, b *testkit.Browser, tokens *oidc.Tokens[*oidc.IDTokenClaims]) {
	t.Helper()
	if f := app.Start(b, nil); f.Page.Field("authRequestID") == "" {
		t.Fatalf("the SSO session still signs in: %s", f.Page)
	}
	if active(t, s, app, tokens.AccessToken) {
		t.Fatal("the access token is still active")
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), app.Party, tokens.RefreshToken, "", ""); err == nil {
		t.Fatal("the refresh token still works")
	}
}

// assertSignedIn checks the opposite, without spending the refresh token.
func assertSignedIn(t *testing.T, s *testkit.Server, app *testkit.RP, b *testkit.Browser, tokens *oidc.Tokens[*oidc.IDTokenClaims]) {
	t.Helper()
	app.Start(b, nil).Code()
	if !active(t, s, app, tokens.AccessToken) {
		t.Fatal("an unrelated access token was revoked")
	}
}

func TestAdminAPIRequestRules(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	api, _ := bootstrapAdmin(t, s)
	user := `{"username": "eve", "password": "eve-password"}`
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", ""} {
		r := api.raw("POST", "/users", ct, strings.NewReader(user))
		if r.Status != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d %s", ct, r.Status, r.Body)
		}
	}
	if r := api.raw("POST", "/users", "application/json; charset=utf-8", strings.NewReader(user)); r.Status != http.StatusCreated {
		t.Errorf("JSON with a charset: %d %s", r.Status, r.Body)
	}
	big := `{"username": "big", "password": "` + strings.Repeat("x", admin.MaxBody) + `"}`
	if r := api.raw("POST", "/users", "application/json", strings.NewReader(big)); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over 64 KiB: %d %s", r.Status, r.Body)
	}
	api.wantError(400, admin.CodeInvalidArgument, "", "POST", "/users", `{"username": `)
	api.wantError(400, admin.CodeInvalidArgument, "", "POST", "/users", `{"username": "x", "password": "long-enough"} {}`)
	api.wantError(400, admin.CodeInvalidArgument, "", "POST", "/users", ``)
	api.wantError(400, admin.CodeInvalidArgument, "username", "POST", "/users", `{"username": 7}`)
	api.wantError(400, admin.CodeInvalidArgument, "admin_level", "POST", "/users", `{"username": "x", "admin_level": 9}`)
	api.wantError(404, admin.CodeNotFound, "", "GET", "/nothing-here", nil)
	if r := api.raw("POST", "/clients/x/rotate-secret", "application/x-www-form-urlencoded", bytes.NewReader([]byte("a=b"))); r.Status != 415 {
		t.Errorf("form body on an action: %d", r.Status)
	}
	// The OpenAPI document is public.
	if r := api.with("").do("GET", "/openapi.json", nil); r.Status != 200 || !json.Valid(r.Body) {
		t.Errorf("openapi.json: %d", r.Status)
	}
	if r := api.do("GET", "/users", nil); r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
}
