package otp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

// minHasherKey matches the SHA-256 output size: a shorter key would be the
// weakest link of the MAC.
const minHasherKey = 32

// hashDomain separates these MACs from anything else derived from the same
// key material, and names the scheme so it can be changed later.
const hashDomain = "twofold/otp/v1"

// Hasher computes and checks the keyed hashes under which codes are stored;
// without its key, a stolen hash cannot be brute-forced over the small code
// space.
type Hasher struct{ key []byte }

// NewHasher returns a Hasher for key, which must hold at least 32 bytes
// (derived from the master secret by the caller).
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < minHasherKey {
		return nil, fmt.Errorf("otp: hasher key is %d bytes, need at least %d", len(key), minHasherKey)
	}
	return &Hasher{key: bytes.Clone(key)}, nil
}

// Hash returns the storable hash (base64url, no padding) of code bound to
// binding, typically the challenge id, so the hash verifies for that
// challenge only. code must be in normalised form, as Generate returns it or
// as NormalizeRecoveryCode returns it.
func (h *Hasher) Hash(binding, code string) string {
	return base64.RawURLEncoding.EncodeToString(h.mac(binding, code))
}

// Verify reports whether the code a user submitted matches hash for binding.
// The submission is normalised first, so "123 456" matches "123456".
func (h *Hasher) Verify(hash, binding, code string) bool {
	norm, ok := Normalize(code)
	if !ok {
		return false
	}
	return h.equal(hash, binding, norm)
}

// VerifyRecoveryCode is Verify for recovery codes: it normalises with
// NormalizeRecoveryCode instead, so "ABCDE-FGHJK" matches "abcdefghjk".
func (h *Hasher) VerifyRecoveryCode(hash, binding, code string) bool {
	norm, ok := NormalizeRecoveryCode(code)
	if !ok {
		return false
	}
	return h.equal(hash, binding, norm)
}

func (h *Hasher) equal(hash, binding, norm string) bool {
	// Comparing encodings rather than decoded bytes accepts only the exact
	// string Hash produced (the decoder would skip stray newlines), in time
	// independent of where the two differ.
	want := h.Hash(binding, norm)
	return subtle.ConstantTimeCompare([]byte(want), []byte(hash)) == 1
}

// mac writes each field behind its 8-byte length, so that ("ab", "c") and
// ("a", "bc") are different inputs.
func (h *Hasher) mac(binding, code string) []byte {
	m := hmac.New(sha256.New, h.key)
	writeField(m, hashDomain)
	writeField(m, binding)
	writeField(m, code)
	return m.Sum(nil)
}

func writeField(m hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	m.Write(n[:])
	io.WriteString(m, s)
}
