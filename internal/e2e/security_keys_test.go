package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// algOf returns the alg of a compact JWS.
func algOf(t *testing.T, token string) string {
	t.Helper()
	sig, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("not a JWS signed RS256 or ES256: %v", err)
	}
	return sig.Signatures[0].Header.Algorithm
}

// TestPerClientSigningAlgorithm: RS256 stays the default, an ES256 key is
// published beside it, and a client registered with
// id_token_signed_response_alg ES256 gets ES256 ID tokens and JWT access
// tokens (from the code and from a refresh), which a relying party that
// verifies ES256 accepts and the provider's own endpoints honour.
func TestPerClientSigningAlgorithm(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		s.CreateUser(t, "alice", "alice-password")
		ctx := context.Background()

		var disco struct {
			Algs []string `json:"id_token_signing_alg_values_supported"`
		}
		if err := json.Unmarshal([]byte(s.NewBrowser(t).Get("/.well-known/openid-configuration").Body), &disco); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(disco.Algs, []string{"RS256", "ES256"}) {
			t.Fatalf("id_token_signing_alg_values_supported = %v, want [RS256 ES256]", disco.Algs)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(s.NewBrowser(t).Get("/keys").Body), &set); err != nil {
			t.Fatal(err)
		}
		var published []string
		for _, k := range set.Keys {
			published = append(published, k.Algorithm)
		}
		slices.Sort(published)
		if !slices.Equal(published, []string{"ES256", "RS256"}) {
			t.Fatalf("JWKS algorithms = %v, want one ES256 and one RS256 key", published)
		}

		plain := s.NewRP(t, testkit.ClientOptions{AccessTokenFormat: "jwt"})
		tokens := plain.Login(s.NewBrowser(t), "alice", "alice-password")
		if algOf(t, tokens.IDToken) != "RS256" || algOf(t, tokens.AccessToken) != "RS256" {
			t.Fatalf("a client without a setting got %s/%s tokens, want RS256", algOf(t, tokens.IDToken), algOf(t, tokens.AccessToken))
		}

		fast := s.NewRP(t, testkit.ClientOptions{AccessTokenFormat: "jwt", IDTokenSignedResponseAlg: "ES256"})
		fast.Reconfigure(rp.WithVerifierOpts(rp.WithSupportedSigningAlgorithms("ES256")))
		tokens = fast.Login(s.NewBrowser(t), "alice", "alice-password") // the rp library verifies the ES256 ID token
		if algOf(t, tokens.IDToken) != "ES256" || algOf(t, tokens.AccessToken) != "ES256" {
			t.Fatalf("an ES256 client got %s/%s tokens, want ES256", algOf(t, tokens.IDToken), algOf(t, tokens.AccessToken))
		}
		if !active(t, s, fast, tokens.AccessToken) {
			t.Fatal("the provider does not accept its own ES256 access token at introspection")
		}
		if _, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, "Bearer", tokens.IDTokenClaims.Subject, fast.Party); err != nil {
			t.Fatalf("userinfo with an ES256 access token: %v", err)
		}
		refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, fast.Party, tokens.RefreshToken, "", "")
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if algOf(t, refreshed.IDToken) != "ES256" || algOf(t, refreshed.AccessToken) != "ES256" {
			t.Fatalf("a refresh for an ES256 client gave %s/%s tokens", algOf(t, refreshed.IDToken), algOf(t, refreshed.AccessToken))
		}

		machine := s.NewRP(t, testkit.ClientOptions{GrantTypes: []string{"client_credentials"}, AccessTokenFormat: "jwt", IDTokenSignedResponseAlg: "ES256"})
		tok, err := rp.ClientCredentials(ctx, machine.Party, nil)
		if err != nil || algOf(t, tok.AccessToken) != "ES256" {
			t.Fatalf("client_credentials for an ES256 client = %v, %v", tok, err)
		}
	})
}

// TestPasswordRehashedToConfiguredStrength: a password hash made with
// weaker argon2id parameters than the configured ones (hashed before an
// operator raised them) is replaced after the next successful sign-in,
// once, and the password still works; a wrong password changes nothing.
func TestPasswordRehashedToConfiguredStrength(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		o.Configure = func(c *configT) { c.Password.MemoryKiB, c.Password.Iterations = 128, 2 }
		s := testkit.NewServer(t, o)
		ctx := context.Background()
		id := s.CreateUser(t, "alice", "alice-password")
		weak, err := password.NewHasher(64, 1, 1, 1, time.Second).Hash(ctx, "alice-password")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.App.Store.UpdateUser(ctx, id, storage.UserUpdate{PasswordHash: &weak}, s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		hashOf := func() string {
			u, err := s.App.Store.User(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return u.PasswordHash
		}
		app := s.NewRP(t, testkit.ClientOptions{})

		f := app.Start(s.NewBrowser(t), nil).Password("alice", "wrong-password")
		if f.Page.Status != http.StatusUnauthorized || hashOf() != weak {
			t.Fatalf("a wrong password: status %d, hash changed %v", f.Page.Status, hashOf() != weak)
		}
		app.Login(s.NewBrowser(t), "alice", "alice-password")
		strong := hashOf()
		if strong == weak || !strings.Contains(strong, "$m=128,t=2,p=1$") {
			t.Fatalf("after a sign-in the hash is %q, want one with m=128,t=2,p=1", strong)
		}
		if ok, err := s.App.Passwords().Verify(ctx, strong, "alice-password"); err != nil || !ok {
			t.Fatalf("the new hash does not verify the password: %v, %v", ok, err)
		}
		app.Login(s.NewBrowser(t), "alice", "alice-password")
		if hashOf() != strong {
			t.Fatal("a hash already at the configured strength was made again")
		}
		events, err := s.App.Store.AuditEvents(ctx, storage.AuditFilter{UserID: id, Type: "password_rehashed"})
		if err != nil || len(events) != 1 {
			t.Fatalf("password_rehashed events = %d, %v; want 1", len(events), err)
		}
	})
}
