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
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// keyStore is what the key manager needs from storage.
type keyStore interface {
	SigningKeys(ctx context.Context, now time.Time) ([]storage.SigningKey, error)
	AddSigningKey(ctx context.Context, k *storage.SigningKey, visibleUntil time.Time) error
}

// KeyAlgorithms are the algorithms the provider keeps an active key for,
// the default first: RS256 because OIDC requires it and some relying
// parties know nothing else, ES256 because its signatures cost a small
// fraction of RSA's, for the clients that ask for it.
var KeyAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// Keys manages token signing keys: generation, rotation, and a short-lived
// in-memory copy so that signing does not decrypt a key per token. One key
// per algorithm is active at a time.
type Keys struct {
	store     keyStore
	ring      *keyring.Keyring
	now       func() time.Time
	algorithm jose.SignatureAlgorithm // for clients that name none
	rsaBits   int
	retention time.Duration // how long a retired key stays in JWKS
	cacheTTL  time.Duration

	mu       sync.Mutex
	loadedAt time.Time
	active   map[jose.SignatureAlgorithm]*signingKey
	public   []zop.Key
	jwks     []byte
	jwksETag string // of jwks, for the JWKS and discovery validators
}

// KeyOptions configure the key manager.
type KeyOptions struct {
	// Algorithm signs the tokens of clients that name no algorithm.
	Algorithm string
	// RSABits is the size of new RSA keys (2048 when 0).
	RSABits int
	// Retention must cover the longest token lifetime so that every token
	// signed by a retired key can still be checked.
	Retention time.Duration
}

// NewKeys returns a key manager.
func NewKeys(store keyStore, ring *keyring.Keyring, o KeyOptions, now func() time.Time) *Keys {
	if o.RSABits == 0 {
		o.RSABits = 2048
	}
	return &Keys{store: store, ring: ring, now: now, algorithm: jose.SignatureAlgorithm(o.Algorithm),
		rsaBits: o.RSABits, retention: o.Retention, cacheTTL: 10 * time.Second}
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

// Rotate generates a new signing key for every algorithm, makes them the
// active ones and retires the previous keys, which stay in JWKS for the
// retention period. It returns the new key ids by algorithm.
func (m *Keys) Rotate(ctx context.Context) (map[jose.SignatureAlgorithm]string, error) {
	kids := map[jose.SignatureAlgorithm]string{}
	now := m.now().UTC()
	for _, alg := range m.creationOrder() {
		kid, err := m.rotate(ctx, alg, m.createdAt(alg, now))
		if err != nil {
			return kids, err
		}
		kids[alg] = kid
	}
	return kids, nil
}

// creationOrder is KeyAlgorithms with the default algorithm last.
func (m *Keys) creationOrder() []jose.SignatureAlgorithm {
	out := slices.DeleteFunc(slices.Clone(KeyAlgorithms), func(a jose.SignatureAlgorithm) bool { return a == m.algorithm })
	return append(out, m.algorithm)
}

// createdAt dates a new key of alg beside a default-algorithm key created
// at defaultAt. The release before per-client algorithms signs with the
// newest unretired key, whatever its algorithm; a key of another
// algorithm is therefore dated a second before the default one, so that
// replicas of that release, still running during a rolling upgrade, keep
// signing with the default algorithm. The key then also ages, and
// rotates, with the default one.
func (m *Keys) createdAt(alg jose.SignatureAlgorithm, defaultAt time.Time) time.Time {
	if alg == m.algorithm {
		return defaultAt
	}
	return defaultAt.Add(-time.Second)
}

// rotate generates and stores a new active key of one algorithm, dated now.
func (m *Keys) rotate(ctx context.Context, alg jose.SignatureAlgorithm, now time.Time) (string, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, m.rsaBits)
	default:
		err = fmt.Errorf("unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	kid := keyring.RandomToken(12)
	pub := jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: string(alg), Use: "sig"}
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return "", err
	}
	rec := &storage.SigningKey{
		ID: kid, Algorithm: string(alg), CreatedAt: now, PublicKey: string(pubJSON),
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

// EnsureKey creates an active key for every algorithm that has none: the
// first keys of a new database, and the ES256 key of one that predates it.
func (m *Keys) EnsureKey(ctx context.Context) error {
	_, err := m.rotateWhere(ctx, func(storage.SigningKey) bool { return true })
	return err
}

// RotateIfOlder rotates each algorithm whose active key is older than
// period; the background job calls it on every replica, and the age check
// makes all but the first a no-op.
func (m *Keys) RotateIfOlder(ctx context.Context, period time.Duration) (bool, error) {
	return m.rotateWhere(ctx, func(k storage.SigningKey) bool { return m.now().Sub(k.CreatedAt) < period })
}

// rotateWhere rotates every algorithm that has no active key for which
// keep is true, and reports whether it rotated any.
func (m *Keys) rotateWhere(ctx context.Context, keep func(storage.SigningKey) bool) (bool, error) {
	now := m.now().UTC()
	keys, err := m.store.SigningKeys(ctx, now)
	if err != nil {
		return false, err
	}
	kept := func(alg jose.SignatureAlgorithm) *storage.SigningKey {
		for i, k := range keys { // newest first
			if k.RetiredAt == nil && k.Algorithm == string(alg) && keep(k) {
				return &keys[i]
			}
		}
		return nil
	}
	defaultAt := now
	if k := kept(m.algorithm); k != nil && k.CreatedAt.Before(now) {
		defaultAt = k.CreatedAt
	}
	rotated := false
	for _, alg := range m.creationOrder() {
		if kept(alg) != nil {
			continue
		}
		if _, err := m.rotate(ctx, alg, m.createdAt(alg, defaultAt)); err != nil {
			return rotated, err
		}
		rotated = true
	}
	return rotated, nil
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
		active = map[jose.SignatureAlgorithm]*signingKey{}
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
		alg := jose.SignatureAlgorithm(rec.Algorithm)
		if rec.RetiredAt != nil || active[alg] != nil { // newest first: the first is the active one
			continue
		}
		if active[alg], err = m.open(rec); err != nil {
			return err
		}
	}
	if active[m.algorithm] == nil {
		return fmt.Errorf("no active %s signing key (run twofold keys rotate)", m.algorithm)
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

// SigningKey returns the active key of the default algorithm.
func (m *Keys) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	return m.SigningKeyFor(ctx, "")
}

// SigningKeyFor returns the active key of alg (a client's
// id_token_signed_response_alg), or of the default algorithm when alg is
// empty or has no active key (a database whose keys predate it, until
// the next start or rotation adds one).
func (m *Keys) SigningKeyFor(ctx context.Context, alg string) (zop.SigningKey, error) {
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := m.active[jose.SignatureAlgorithm(alg)]; k != nil {
		return k, nil
	}
	return m.active[m.algorithm], nil
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

// Algorithms lists the algorithms of visible keys, for discovery, in the
// order of KeyAlgorithms (RS256 first, as the default of OIDC).
func (m *Keys) Algorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	keys, err := m.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	var out []jose.SignatureAlgorithm
	for _, alg := range KeyAlgorithms {
		if slices.ContainsFunc(keys, func(k zop.Key) bool { return k.Algorithm() == alg }) {
			out = append(out, alg)
		}
	}
	return out, nil
}
