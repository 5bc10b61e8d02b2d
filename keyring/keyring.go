// Package keyring derives twofold's purpose-bound keys from the one master
// secret, so that a key used to hash client secrets can never decrypt a
// signing key, and seals secrets at rest with AES-GCM bound to their row.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Purposes of derived keys. Changing a string invalidates everything that
// was sealed or hashed with it.
const (
	PurposeClientSecret = "twofold client-secret hash v1"
	PurposeToken        = "twofold token hash v1"
	PurposeCode         = "twofold one-time-code hash v1"
	PurposeAtRest       = "twofold at-rest encryption v1"
	PurposeOPCrypto     = "twofold oidc opaque token v1"
	PurposeBinding      = "twofold browser binding v1"
	// PurposeRefreshSuccessor derives a rotated refresh token from the one
	// it replaces, so that the reuse grace can hand it out again.
	PurposeRefreshSuccessor = "twofold refresh successor v1"
)

// Keyring holds the master secret and hands out derived keys.
type Keyring struct {
	master []byte
	aead   cipher.AEAD
}

// New builds a Keyring from a master secret of at least 32 bytes.
func New(master []byte) (*Keyring, error) {
	if len(master) < 32 {
		return nil, fmt.Errorf("keyring: master secret must be at least 32 bytes (got %d)", len(master))
	}
	k := &Keyring{master: append([]byte(nil), master...)}
	block, err := aes.NewCipher(k.Derive(PurposeAtRest))
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return k, nil
}

// Derive returns a 32-byte key for one purpose (HKDF-SHA256).
func (k *Keyring) Derive(purpose string) []byte {
	key, err := hkdf.Key(sha256.New, k.master, nil, purpose, 32)
	if err != nil {
		panic("keyring: hkdf: " + err.Error()) // only for lengths sha256 cannot produce
	}
	return key
}

// Hasher returns a keyed hash for one purpose.
func (k *Keyring) Hasher(purpose string) Hasher {
	return Hasher{key: k.Derive(purpose)}
}

// Seal encrypts plaintext with AES-256-GCM; aad names where the value lives
// (table, column, row id) so a ciphertext copied to another row fails to open.
func (k *Keyring) Seal(plaintext []byte, aad string) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, plaintext, []byte(aad))
}

// Open reverses Seal.
func (k *Keyring) Open(sealed []byte, aad string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return nil, errors.New("keyring: sealed value too short")
	}
	out, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, errors.New("keyring: cannot open sealed value (wrong secret_key or moved value)")
	}
	return out, nil
}

// Hasher computes HMAC-SHA256 digests of high-entropy secrets (client
// secrets, refresh tokens, codes with a binding). A keyed fast hash is right
// for them: they cannot be guessed, and a leaked table without the key is
// useless.
type Hasher struct{ key []byte }

// Sum returns the base64url digest of the parts, length-prefixed so that
// ("ab","c") and ("a","bc") differ.
func (h Hasher) Sum(parts ...string) string {
	m := hmac.New(sha256.New, h.key)
	var lenbuf [4]byte
	for _, p := range parts {
		n := len(p)
		lenbuf[0], lenbuf[1], lenbuf[2], lenbuf[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		m.Write(lenbuf[:])
		m.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Equal reports in constant time whether digest is the Sum of parts.
func (h Hasher) Equal(digest string, parts ...string) bool {
	return hmac.Equal([]byte(digest), []byte(h.Sum(parts...)))
}

// RandomToken returns n random bytes, base64url without padding.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
