package op

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// newKeys is a key manager on a migrated SQLite store.
func newKeys(t testing.TB, o KeyOptions, now func() time.Time) (*Keys, *storage.Store) {
	t.Helper()
	store, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "t.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New([]byte("test-secret-key-0123456789abcdef-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return NewKeys(store, ring, o, now), store
}

// TestKeysOnePerAlgorithm: a database whose only key is the RS256 one of
// an older release gets an ES256 key beside it at start, both are
// published, and each algorithm is asked for by name.
func TestKeysOnePerAlgorithm(t *testing.T) {
	c := &clock{t: time.Now().UTC()}
	keys, store := newKeys(t, KeyOptions{Algorithm: "RS256", Retention: time.Hour}, c.Now)
	ctx := t.Context()
	oldKID, err := keys.rotate(ctx, jose.RS256, c.Now().Add(-time.Minute)) // what an older release left
	if err != nil {
		t.Fatal(err)
	}
	keys.rsaBits = 3072 // keys.rsa_bits changed since
	if err := keys.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := store.SigningKeys(ctx, c.Now())
	if err != nil || len(recs) != 2 {
		t.Fatalf("keys after EnsureKey = %d, %v; want the old RS256 key and a new ES256 key", len(recs), err)
	}
	// The older release signs with the newest unretired key: during a
	// rolling upgrade it must still be the RS256 one.
	if recs[0].ID != oldKID || recs[1].Algorithm != "ES256" || !recs[1].CreatedAt.Before(recs[0].CreatedAt) {
		t.Fatalf("newest key after adding ES256 = %s %s, want the RS256 key %s", recs[0].Algorithm, recs[0].ID, oldKID)
	}
	algs, err := keys.Algorithms(ctx)
	if err != nil || !slices.Equal(algs, []jose.SignatureAlgorithm{jose.RS256, jose.ES256}) {
		t.Fatalf("Algorithms = %v, %v; want [RS256 ES256]", algs, err)
	}
	for _, tc := range []struct{ ask, want string }{{"", "RS256"}, {"RS256", "RS256"}, {"ES256", "ES256"}} {
		k, err := keys.SigningKeyFor(ctx, tc.ask)
		if err != nil || string(k.SignatureAlgorithm()) != tc.want {
			t.Fatalf("SigningKeyFor(%q) = %v, %v; want %s", tc.ask, k, err, tc.want)
		}
		token := sign(t, k)
		if !strings.Contains(string(keys.jwks), k.ID()) || verify(t, keys, token) != tc.want {
			t.Errorf("token signed for %q does not verify against the JWKS as %s", tc.ask, tc.want)
		}
	}
	rsaKey, _ := keys.SigningKeyFor(ctx, "RS256")
	if bits := rsaKey.Key().(interface{ Size() int }).Size() * 8; bits != 2048 {
		t.Errorf("the older release's RSA key has %d bits; the setting applies to new keys only", bits)
	}
	// A rotation makes new keys of both algorithms, RSA at the configured size.
	kids, err := keys.Rotate(ctx)
	if err != nil || len(kids) != 2 {
		t.Fatalf("Rotate = %v, %v", kids, err)
	}
	rsaKey, _ = keys.SigningKeyFor(ctx, "RS256")
	if bits := rsaKey.Key().(interface{ Size() int }).Size() * 8; bits != 3072 || rsaKey.ID() != kids[jose.RS256] {
		t.Errorf("rotated RSA key %s has %d bits, want %s with 3072", rsaKey.ID(), bits, kids[jose.RS256])
	}
	if recs, _ := store.SigningKeys(ctx, c.Now()); recs[0].ID != kids[jose.RS256] {
		t.Errorf("newest key after a rotation is %s %s, want the RS256 one", recs[0].Algorithm, recs[0].ID)
	}
	// Age-based rotation replaces each algorithm whose key is too old.
	c.Advance(2 * time.Hour)
	if rotated, err := keys.RotateIfOlder(ctx, time.Hour); err != nil || !rotated {
		t.Fatalf("RotateIfOlder = %v, %v", rotated, err)
	}
	if rotated, err := keys.RotateIfOlder(ctx, time.Hour); err != nil || rotated {
		t.Fatalf("RotateIfOlder right after a rotation = %v, %v; want nothing to do", rotated, err)
	}
}

func sign(t testing.TB, k zop.SigningKey) string {
	t.Helper()
	signer, err := zop.SignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"sub":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// verify checks a token against the published key set and returns its alg.
func verify(t *testing.T, keys *Keys, token string) string {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	set, err := keys.KeySet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	for _, k := range set {
		if k.ID() == h.KeyID {
			if _, err := jws.Verify(k.Key()); err == nil {
				return h.Algorithm
			}
		}
	}
	return ""
}

// BenchmarkSign measures one ID-token-sized signature per algorithm and
// key size: the cost keys.rsa_bits and id_token_signed_response_alg pick
// between (the figures are in the README).
func BenchmarkSign(b *testing.B) {
	claims := oidc.NewIDTokenClaims("https://id.example.com", "3f1c2a9e-6b1d-4c1e-9a51-0d9f3e2b7c44",
		[]string{"wiki"}, time.Now().Add(time.Hour), time.Now(), "", "urn:twofold:acr:2fa", []string{"pwd", "otp", "mfa"}, "wiki", 0)
	for _, tc := range []struct {
		name string
		alg  jose.SignatureAlgorithm
		bits int
	}{{"RS256-2048", jose.RS256, 2048}, {"RS256-3072", jose.RS256, 3072}, {"ES256", jose.ES256, 0}} {
		b.Run(tc.name, func(b *testing.B) {
			keys, _ := newKeys(b, KeyOptions{Algorithm: "RS256", RSABits: tc.bits, Retention: time.Hour}, time.Now)
			if err := keys.EnsureKey(b.Context()); err != nil {
				b.Fatal(err)
			}
			k, err := keys.SigningKeyFor(b.Context(), string(tc.alg))
			if err != nil {
				b.Fatal(err)
			}
			signer, err := zop.SignerFromKey(k)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				payload, err := claims.MarshalJSON()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := signer.Sign(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
