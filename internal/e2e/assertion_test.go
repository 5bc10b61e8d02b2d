package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/keyring"
)

// keyClient is a private_key_jwt client: its key pair and its relying
// party (the zitadel/oidc rp library, sending the client's assertions in
// the form, as RFC 7523 has it).
type keyClient struct {
	*testkit.RP
	key *ecdsa.PrivateKey
	s   *testkit.Server
}

// newKeyClient registers a client that authenticates with private_key_jwt
// (an ES256 key, kid k1) for the given grants.
func newKeyClient(t *testing.T, s *testkit.Server, grants ...string) *keyClient {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	app := s.NewRP(t, testkit.ClientOptions{AuthMethod: "private_key_jwt", JWKS: string(set), GrantTypes: grants})
	app.Reconfigure(rp.WithAuthStyle(oauth2.AuthStyleInParams))
	return &keyClient{RP: app, key: key, s: s}
}

// assertion signs a client assertion for the token endpoint issued at iat
// (by the server's clock), valid for two minutes, with key.
func (c *keyClient) assertion(t *testing.T, iat time.Time, key *ecdsa.PrivateKey) string {
	t.Helper()
	return c.assertionFor(t, c.s.URL+"/oauth/token", iat, key)
}

// assertionFor signs a client assertion for audience aud.
func (c *keyClient) assertionFor(t *testing.T, aud string, iat time.Time, key *ecdsa.PrivateKey) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{"iss": c.ID, "sub": c.ID, "aud": []string{aud},
		"iat": iat.Unix(), "exp": iat.Add(2 * time.Minute).Unix(), "jti": keyring.RandomToken(12)})
	jws, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// signed adds a client assertion issued now to form.
func (c *keyClient) signed(t *testing.T, form url.Values) url.Values {
	t.Helper()
	form.Set("client_assertion", c.assertion(t, c.s.Clock.Now(), c.key))
	form.Set("client_assertion_type", oidc.ClientAssertionTypeJWTAssertion)
	return form
}

// post sends a token request authenticated by assertion and returns the
// status and the OAuth error code.
func (c *keyClient) post(t *testing.T, assertion string, form url.Values) (int, string) {
	t.Helper()
	form.Set("client_assertion", assertion)
	form.Set("client_assertion_type", oidc.ClientAssertionTypeJWTAssertion)
	resp, err := (&http.Client{Transport: c.s.Transport()}).PostForm(c.s.URL+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error
}

// TestPrivateKeyJWTClockSkew: a private_key_jwt client whose clock runs 5
// seconds ahead signs in, refreshes and (as a machine client) gets
// client_credentials tokens; an assertion beyond the leeway, expired,
// signed by another key, or from a client not registered for
// private_key_jwt is refused as invalid_client (401), never invalid_grant.
func TestPrivateKeyJWTClockSkew(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		ctx := context.Background()
		web := newKeyClient(t, s, "authorization_code", "refresh_token")
		ahead := func() time.Time { return s.Clock.Now().Add(5 * time.Second) }

		f := web.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, f.Code(), web.Party,
			rp.WithCodeVerifier(f.Verifier), rp.WithClientAssertionJWT(web.assertion(t, ahead(), web.key)))
		if err != nil {
			t.Fatalf("code exchange with an assertion 5 s ahead: %v", err)
		}
		refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, web.Party, tokens.RefreshToken,
			web.assertion(t, ahead(), web.key), oidc.ClientAssertionTypeJWTAssertion)
		if err != nil || refreshed.RefreshToken == "" {
			t.Fatalf("refresh with an assertion 5 s ahead: %v", err)
		}

		machine := newKeyClient(t, s, "client_credentials")
		tok, err := rp.ClientCredentials(ctx, machine.Party, url.Values{
			"client_assertion": {machine.assertion(t, ahead(), machine.key)}, "client_assertion_type": {oidc.ClientAssertionTypeJWTAssertion}})
		if err != nil || tok.AccessToken == "" {
			t.Fatalf("client_credentials for a private_key_jwt client: %v", err)
		}
		if status, code := machine.post(t, machine.assertion(t, ahead(), machine.key), url.Values{"grant_type": {"client_credentials"}}); status != http.StatusOK {
			t.Fatalf("client_credentials by hand: %d %s", status, code)
		}
		if !machine.introspect(t, tok.AccessToken) {
			t.Fatal("the machine client's token is not active")
		}

		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		secretClient := s.NewRP(t, testkit.ClientOptions{GrantTypes: []string{"client_credentials"}})
		impostor := &keyClient{RP: secretClient, key: machine.key, s: s}
		now := s.Clock.Now()
		for _, tc := range []struct {
			name      string
			c         *keyClient
			assertion string
		}{
			{"issued 5 minutes ahead", machine, machine.assertion(t, now.Add(5*time.Minute), machine.key)},
			{"expired", machine, machine.assertion(t, now.Add(-5*time.Minute), machine.key)},
			{"signed by another key", machine, machine.assertion(t, now, other)},
			{"from a client registered for a secret", impostor, impostor.assertion(t, now, machine.key)},
			{"not a JWT", machine, "not.a.jwt"},
		} {
			status, code := tc.c.post(t, tc.assertion, url.Values{"grant_type": {"client_credentials"}})
			if status != http.StatusUnauthorized || code != "invalid_client" {
				t.Errorf("client_credentials, assertion %s: %d %s; want 401 invalid_client", tc.name, status, code)
			}
		}
		// The same at the code and refresh grants, where zitadel/oidc said
		// invalid_grant.
		late := web.assertion(t, now.Add(5*time.Minute), web.key)
		if status, code := web.post(t, late, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshed.RefreshToken}}); status != http.StatusUnauthorized || code != "invalid_client" {
			t.Errorf("refresh with an assertion beyond the leeway: %d %s; want 401 invalid_client", status, code)
		}
		f = web.Start(s.NewBrowser(t), nil).Password("alice", "alice-password")
		if status, code := web.post(t, late, url.Values{"grant_type": {"authorization_code"}, "code": {f.Code()},
			"redirect_uri": {web.RedirectURI}, "code_verifier": {f.Verifier}}); status != http.StatusUnauthorized || code != "invalid_client" {
			t.Errorf("code exchange with an assertion beyond the leeway: %d %s; want 401 invalid_client", status, code)
		}
		// A client registered for private_key_jwt cannot fall back to no
		// authentication at all.
		if status, code := tokenError(t, s, machine.ID, "", url.Values{"grant_type": {"client_credentials"}}); status != http.StatusUnauthorized || code != "invalid_client" {
			t.Errorf("client_credentials without an assertion: %d %s", status, code)
		}
	})
}

// introspect asks whether token is active, authenticated by an assertion
// issued now for the issuer (zitadel/oidc checks introspection's).
func (c *keyClient) introspect(t *testing.T, token string) bool {
	t.Helper()
	form := url.Values{"token": {token}, "client_assertion": {c.assertionFor(t, c.s.URL, time.Now(), c.key)},
		"client_assertion_type": {oidc.ClientAssertionTypeJWTAssertion}}
	resp, err := (&http.Client{Transport: c.s.Transport()}).PostForm(c.s.URL+"/oauth/introspect", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection: %d, %v", resp.StatusCode, err)
	}
	return body.Active
}
