package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/twofold-id/twofold/internal/testkit"
)

func jwks(t *testing.T, s *testkit.Server) []string {
	t.Helper()
	resp, err := (&http.Client{Transport: s.Transport()}).Get(s.URL + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	sig, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return sig.Signatures[0].Header.KeyID
}

// Rotation: new tokens are signed with the new key at once (replicas pick
// it up within their 10-second key cache), the old key stays in JWKS until
// every token it signed has expired, then leaves.
func TestSigningKeyRotation(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	old := kidOf(t, app.Login(s.NewBrowser(t), "alice", "alice-password").IDToken)

	kids, err := s.App.Keys.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kid := kids[jose.RS256]
	s.Clock.Advance(11 * time.Second) // past the key cache
	tokens := app.Login(s.NewBrowser(t), "alice", "alice-password")
	if got := kidOf(t, tokens.IDToken); got != kid || got == old {
		t.Fatalf("after rotation the ID token's kid is %q, want the new %q", got, kid)
	}
	// RS256 and ES256, each new and old.
	if got := jwks(t, s); len(got) != 4 || !slices.Contains(got, old) || !slices.Contains(got, kids[jose.ES256]) {
		t.Fatalf("JWKS after rotation = %v, want the new and the old keys of both algorithms", got)
	}
	s.Clock.Advance(2*time.Hour + time.Minute) // past the ID token lifetime + margin
	if got := jwks(t, s); len(got) != 2 || !slices.Contains(got, kid) || !slices.Contains(got, kids[jose.ES256]) {
		t.Fatalf("JWKS after the old keys' tokens expired = %v, want only %v", got, kids)
	}
	// Automatic rotation replaces a key older than keys.rotation_period.
	if rotated, err := s.App.Keys.RotateIfOlder(context.Background(), time.Hour); err != nil || !rotated {
		t.Fatalf("RotateIfOlder = %v, %v", rotated, err)
	}
}
