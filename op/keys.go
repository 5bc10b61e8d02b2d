package op

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/internal/keyring"
	"github.com/twofold-id/twofold/storage"
)

// keyStore is what the key manager needs from storage.
type keyStore interface {
	SigningKeys(ctx context.Context, now time.Time) ([]storage.SigningKey, error)
	AddSigningKey(ctx context.Context, k *storage.SigningKey, visibleUntil time.Time) error
}

// Keys manages token signing keys: generation, rotation, and a short-lived
// in-memory copy so that signing does not decrypt a key per token.
type Keys struct {
	store     keyStore
	ring      *keyring.Keyring
	now       func() time.Time
	algorithm string
	retention time.Duration // how long a retired key stays in JWKS
	cacheTTL  time.Duration

	mu       sync.Mutex
	loadedAt time.Time
	active   *signingKey
	public   []zop.Key
	jwks     []byte
	jwksETag string // of jwks, for the JWKS and discovery validators
}

// NewKeys returns a key manager. retention must cover the longest token
// lifetime so that every token signed by a retired key can still be checked.
func NewKeys(store keyStore, ring *keyring.Keyring, algorithm string, retention time.Duration, now func() time.Time) *Keys {
	return &Keys{store: store, ring: ring, now: now, algorithm: algorithm, retention: retention, cacheTTL: 10 * time.Second}
}

type signingKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct {
	jwk jose.JSONWebKey
}

func (k publicKey) ID() string { return k.jwk.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.jwk.Algorithm)
}
func (k publicKey) Use() string { return "sig" }
func (k publicKey) Key() any    { return k.jwk.Key }

// Rotate generates a new signing key, makes it the active one and retires
// the previous key, which stays in JWKS for the retention period.
func (m *Keys) Rotate(ctx context.Context) (string, error) {
	now := m.now().UTC()
	var (
		priv crypto.Signer
		err  error
	)
	switch m.algorithm {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	kid := keyring.RandomToken(12)
	pub := jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: m.algorithm, Use: "sig"}
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return "", err
	}
	rec := &storage.SigningKey{
		ID: kid, Algorithm: m.algorithm, CreatedAt: now, PublicKey: string(pubJSON),
		PrivateKey: m.ring.Seal(der, "signing_keys.private_key:"+kid),
	}
	if err := m.store.AddSigningKey(ctx, rec, now.Add(m.retention)); err != nil {
		return "", err
	}
	m.invalidate()
	return kid, nil
}

func (m *Keys) invalidate() {
	m.mu.Lock()
	m.loadedAt = time.Time{}
	m.mu.Unlock()
}

// EnsureKey creates the first key when there is none.
func (m *Keys) EnsureKey(ctx context.Context) error {
	keys, err := m.store.SigningKeys(ctx, m.now())
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.RetiredAt == nil {
			return nil
		}
	}
	_, err = m.Rotate(ctx)
	return err
}

// RotateIfOlder rotates when the active key is older than period; the
// background job calls it on every replica, and the age check makes all but
// the first a no-op.
func (m *Keys) RotateIfOlder(ctx context.Context, period time.Duration) (bool, error) {
	keys, err := m.store.SigningKeys(ctx, m.now())
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if k.RetiredAt == nil && m.now().Sub(k.CreatedAt) < period {
			return false, nil
		}
	}
	_, err = m.Rotate(ctx)
	return err == nil, err
}

// load refreshes the cached keys when they are older than cacheTTL.
func (m *Keys) load(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	// A clock that went back (a test moved it) reloads; one that stands
	// still (a test's frozen clock) keeps the cache.
	if !m.loadedAt.IsZero() && now.Sub(m.loadedAt) < m.cacheTTL && !now.Before(m.loadedAt) {
		return nil
	}
	recs, err := m.store.SigningKeys(ctx, now)
	if err != nil {
		return err
	}
	var (
		active *signingKey
		public []zop.Key
		set    jose.JSONWebKeySet
	)
	for _, rec := range recs {
		var jwk jose.JSONWebKey
		if err := json.Unmarshal([]byte(rec.PublicKey), &jwk); err != nil {
			return fmt.Errorf("signing key %s: %w", rec.ID, err)
		}
		public = append(public, publicKey{jwk})
		set.Keys = append(set.Keys, jwk)
		if rec.RetiredAt != nil || active != nil {
			continue
		}
		if active, err = m.open(rec); err != nil {
			return err
		}
	}
	if active == nil {
		return errors.New("no active signing key (run twofold keys rotate)")
	}
	m.jwks, err = json.Marshal(set)
	if err != nil {
		return err
	}
	m.jwksETag = etagOf(m.jwks)
	m.active, m.public, m.loadedAt = active, public, now
	return nil
}

func (m *Keys) open(rec storage.SigningKey) (*signingKey, error) {
	der, err := m.ring.Open(rec.PrivateKey, "signing_keys.private_key:"+rec.ID)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", rec.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", rec.ID, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not a signer", rec.ID)
	}
	return &signingKey{id: rec.ID, alg: jose.SignatureAlgorithm(rec.Algorithm), key: signer}, nil
}

// SigningKey returns the active key.
func (m *Keys) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.active, nil
}

// KeySet returns every public key still visible.
func (m *Keys) KeySet(ctx context.Context) ([]zop.Key, error) {
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.public, nil
}

// JWKS returns the JSON Web Key Set document, precomputed.
func (m *Keys) JWKS(ctx context.Context) ([]byte, error) {
	body, _, err := m.jwksDoc(ctx)
	return body, err
}

// jwksDoc returns the key set document and its ETag, both computed once
// per load.
func (m *Keys) jwksDoc(ctx context.Context) ([]byte, string, error) {
	if err := m.load(ctx); err != nil {
		return nil, "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.jwks, m.jwksETag, nil
}

// Algorithms lists the algorithms of visible keys, for discovery.
func (m *Keys) Algorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	keys, err := m.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[jose.SignatureAlgorithm]bool{}
	var out []jose.SignatureAlgorithm
	for _, k := range keys {
		if !seen[k.Algorithm()] {
			seen[k.Algorithm()] = true
			out = append(out, k.Algorithm())
		}
	}
	return out, nil
}
