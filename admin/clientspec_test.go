package admin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/keyring"
)

// A generated client id is passed to the CLI as an argument: one starting
// with "-" was read as a flag (found by CI, 1 run in ~30).
func TestGeneratedClientIDsAreSafeArguments(t *testing.T) {
	ring, err := keyring.New(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		c, _, err := NewClientRecord(ClientSpec{Name: "x", RedirectURIs: []string{"https://x.example/cb"}}, ring, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if c.ID[0] == '-' || c.ID[0] == '_' {
			t.Fatalf("client id %q starts with %q", c.ID, c.ID[0])
		}
	}
}

// TestClientRules: each rule names the API's field, with a message that
// names no flag or key, and every problem is reported at once.
func TestClientRules(t *testing.T) {
	ring, err := keyring.New(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	web := func(s ClientSpec) ClientSpec {
		s.Name = "Wiki"
		if s.RedirectURIs == nil {
			s.RedirectURIs = []string{"https://wiki.example/cb"}
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		spec   ClientSpec
		fields []string // every problem's field, in order; none when valid
	}{
		{"a web client", web(ClientSpec{}), nil},
		{"no name", ClientSpec{RedirectURIs: []string{"https://wiki.example/cb"}}, []string{"name"}},
		{"bad id", web(ClientSpec{ID: "a/b"}), []string{"client_id"}},
		{"http on a public host", web(ClientSpec{RedirectURIs: []string{"http://wiki.example/cb"}}), []string{"redirect_uris"}},
		{"custom scheme for a web app", web(ClientSpec{RedirectURIs: []string{"com.example.app:/cb"}}), []string{"redirect_uris"}},
		{"custom scheme for a native app", web(ClientSpec{ApplicationType: "native", RedirectURIs: []string{"com.example.app:/cb"}}), nil},
		{"no redirect URI", ClientSpec{Name: "Wiki"}, []string{"redirect_uris"}},
		{"unknown grant", web(ClientSpec{GrantTypes: []string{"password"}}), []string{"grant_types"}},
		{"public client_credentials", ClientSpec{Name: "x", Public: true, GrantTypes: []string{"client_credentials"}}, []string{"grant_types"}},
		{"public with a secret method", web(ClientSpec{Public: true, AuthMethod: "client_secret_post"}), []string{"public"}},
		{"unknown auth method", web(ClientSpec{AuthMethod: "tls_client_auth"}), []string{"token_endpoint_auth_method"}},
		{"private_key_jwt without keys", web(ClientSpec{AuthMethod: "private_key_jwt"}), []string{"jwks"}},
		{"bad post-logout URI", web(ClientSpec{PostLogoutRedirectURIs: []string{"http://wiki.example/"}}), []string{"post_logout_redirect_uris"}},
		{"bad back-channel URI", web(ClientSpec{BackchannelLogoutURI: "https://user:pw@wiki.example/"}), []string{"backchannel_logout_uri"}},
		{"bad application type", web(ClientSpec{ApplicationType: "desktop"}), []string{"application_type"}},
		{"bad token format", web(ClientSpec{AccessTokenFormat: "paseto"}), []string{"access_token_format"}},
		{"bad signing algorithm", web(ClientSpec{IDTokenSignedResponseAlg: "HS256"}), []string{"id_token_signed_response_alg"}},
		{"unknown scope", web(ClientSpec{Scopes: []string{"root"}}), []string{"scopes"}},
		{"three problems", ClientSpec{RedirectURIs: []string{"http://wiki.example/cb"}, GrantTypes: []string{"authorization_code", "implicit"}},
			[]string{"name", "grant_types", "redirect_uris"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := NewClientRecord(tc.spec, ring, time.Now())
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("NewClientRecord = %v, want it accepted", err)
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Code != CodeInvalidArgument || e.Status != 400 || e.Field != tc.fields[0] {
				t.Fatalf("NewClientRecord = %v, want invalid_argument on %s", err, tc.fields[0])
			}
			got := []string{e.Field}
			if len(tc.fields) > 1 {
				got = nil
				for _, f := range e.Errors {
					got = append(got, f.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields = %v, want %v", got, tc.fields)
			}
			if strings.Contains(err.Error(), "--") {
				t.Errorf("message %q names a command-line flag", err)
			}
		})
	}
}

// TestRedirectURIMessages: a wildcard says it is not allowed, why, and what
// to do instead, not that the URI is "not absolute".
func TestRedirectURIMessages(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"https://*.example.com/cb", `"https://*.example.com/cb": wildcards (*) are not allowed: a redirect URI must match exactly, so that a code cannot be sent to a look-alike address; register each URI in full`},
		{"https://app.example.com/*", "wildcards (*) are not allowed"},
		{"/callback", `"/callback" is not an absolute URI (like https://app.example/callback)`},
	} {
		err := CheckRedirectURI(tc.uri, "web")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckRedirectURI(%q) = %v, want %q", tc.uri, err, tc.want)
		}
	}
}
