package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// ErrBusy means every hashing slot stayed taken for the queue timeout; a
// sign-in answers 429.
var ErrBusy = errors.New("too many sign-ins at once, try again shortly")

// Hasher hashes and verifies passwords with argon2id, with a cap on
// concurrent hashes so a flood of sign-ins cannot exhaust memory.
type Hasher struct {
	memory  uint32
	time    uint32
	threads uint8
	slots   chan struct{}
	wait    time.Duration
	dummy   string
}

// NewHasher returns a hasher with the given argon2id parameters, computing
// at most maxConcurrent hashes at once; others wait up to queueTimeout.
func NewHasher(memoryKiB, iterations uint32, parallelism uint8, maxConcurrent int, queueTimeout time.Duration) *Hasher {
	p := &Hasher{memory: memoryKiB, time: iterations, threads: parallelism,
		slots: make(chan struct{}, maxConcurrent), wait: queueTimeout}
	p.dummy = p.encode(make([]byte, 16), make([]byte, 32))
	return p
}

func (p *Hasher) acquire(ctx context.Context) error {
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Hasher) release() { <-p.slots }

// Hash returns a PHC-format argon2id hash of password, as typed (the rule
// normalises only to count).
func (p *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxBytes {
		return "", fmt.Errorf("password longer than %d bytes", MaxBytes)
	}
	if err := p.acquire(ctx); err != nil {
		return "", err
	}
	defer p.release()
	salt := make([]byte, 16)
	rand.Read(salt)
	return p.encode(salt, argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, 32)), nil
}

func (p *Hasher) encode(salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// NeedsRehash reports whether hash was made with weaker argon2id
// parameters than the configured ones (less memory, fewer passes, or an
// older argon2 version), so that a successful sign-in should store a new
// hash. A hash it cannot read is left alone: Verify refuses it anyway.
func (p *Hasher) NeedsRehash(hash string) bool {
	var version int
	var memory, iters uint32
	var threads uint8
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &iters, &threads); err != nil {
		return false
	}
	return version < argon2.Version || memory < p.memory || iters < p.time
}

// Verify reports whether password matches hash. An empty hash (unknown user)
// is checked against a dummy hash so that both answers take the same time.
func (p *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	known := hash != ""
	if !known {
		hash = p.dummy
	}
	if len(password) > MaxBytes {
		password = password[:MaxBytes]
		known = false
	}
	var memory, iters uint32
	var threads uint8
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unsupported password hash format")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &iters, &threads); err != nil {
		return false, fmt.Errorf("password hash parameters: %w", err)
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err := errors.Join(err1, err2); err != nil {
		return false, fmt.Errorf("password hash encoding: %w", err)
	}
	if err := p.acquire(ctx); err != nil {
		return false, err
	}
	defer p.release()
	got := argon2.IDKey([]byte(password), salt, iters, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1 && known, nil
}
