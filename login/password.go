package login

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

// ErrBusy means every password-hashing slot stayed taken for the queue
// timeout; the caller answers 429.
var ErrBusy = errors.New("too many sign-ins at once, try again shortly")

// Passwords hashes and verifies passwords with argon2id, with a cap on
// concurrent hashes so a flood of sign-ins cannot exhaust memory.
type Passwords struct {
	memory  uint32
	time    uint32
	threads uint8
	slots   chan struct{}
	wait    time.Duration
	dummy   string
}

// NewPasswords returns a hasher with the given argon2id parameters.
func NewPasswords(memoryKiB, iterations uint32, parallelism uint8, maxConcurrent int, queueTimeout time.Duration) *Passwords {
	p := &Passwords{memory: memoryKiB, time: iterations, threads: parallelism,
		slots: make(chan struct{}, maxConcurrent), wait: queueTimeout}
	p.dummy = p.encode(make([]byte, 16), make([]byte, 32))
	return p
}

// MaxPasswordBytes bounds what is hashed.
const MaxPasswordBytes = 1024

func (p *Passwords) acquire(ctx context.Context) error {
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

func (p *Passwords) release() { <-p.slots }

// Hash returns a PHC-format argon2id hash of password.
func (p *Passwords) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("password longer than %d bytes", MaxPasswordBytes)
	}
	if err := p.acquire(ctx); err != nil {
		return "", err
	}
	defer p.release()
	salt := make([]byte, 16)
	rand.Read(salt)
	return p.encode(salt, argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, 32)), nil
}

func (p *Passwords) encode(salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches hash. An empty hash (unknown user)
// is checked against a dummy hash so that both answers take the same time.
func (p *Passwords) Verify(ctx context.Context, hash, password string) (bool, error) {
	known := hash != ""
	if !known {
		hash = p.dummy
	}
	if len(password) > MaxPasswordBytes {
		password = password[:MaxPasswordBytes]
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
