package login

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/twofold-id/twofold/storage"
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

// NeedsRehash reports whether hash was made with weaker argon2id
// parameters than the configured ones (less memory, fewer passes, or an
// older argon2 version), so that a successful sign-in should store a new
// hash. A hash it cannot read is left alone: Verify refuses it anyway.
func (p *Passwords) NeedsRehash(hash string) bool {
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

// rehashStore is the one write a rehash needs.
type rehashStore interface {
	RehashPassword(ctx context.Context, userID, oldHash, newHash string) error
}

// upgrade stores a hash with the configured parameters after password was
// verified against the user's weaker hash. It runs before the sign-in goes
// on (one more hash, once per user after the parameters were raised), so
// it is done before anything can end the process; when it fails (all
// hashing slots taken, the database away) the next sign-in tries again.
// It reports whether a new hash was stored.
func (p *Passwords) upgrade(ctx context.Context, store rehashStore, userID, oldHash, password string) (bool, error) {
	if !p.NeedsRehash(oldHash) {
		return false, nil
	}
	next, err := p.Hash(ctx, password)
	if err != nil {
		return false, err
	}
	err = store.RehashPassword(ctx, userID, oldHash, next)
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return false, nil // the password changed meanwhile: the new one stays
	}
	return err == nil, err
}

// rehash upgrades a user's password hash after a successful sign-in when
// the configured parameters are stronger than the stored hash's. A failure
// is logged and the sign-in goes on; the next one tries again.
func (s *Service) rehash(r *http.Request, u *storage.User, password string) {
	// Not cancelled with the request: a browser that goes away mid-hash
	// should not waste the work.
	ctx := context.WithoutCancel(r.Context())
	upgraded, err := s.cfg.Passwords.upgrade(ctx, s.cfg.Store, u.ID, u.PasswordHash, password)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "password rehash failed; the next sign-in tries again", "user", u.ID, "err", err)
		return
	}
	if upgraded {
		s.audit(r, "password_rehashed", u.ID, "", "stronger parameters")
	}
}
