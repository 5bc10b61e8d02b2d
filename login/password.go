package login

import (
	"context"
	"errors"
	"net/http"

	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage"
)

// ErrBusy is the password package's: every hashing slot stayed taken.
var ErrBusy = password.ErrBusy

// MaxPasswordBytes is the password package's bound on what is hashed.
const MaxPasswordBytes = password.MaxBytes

// rehashStore is the one write a rehash needs.
type rehashStore interface {
	RehashPassword(ctx context.Context, userID, oldHash, newHash string) error
}

// upgrade stores a hash with the configured parameters after pw was
// verified against the user's weaker hash. It runs before the sign-in goes
// on (one more hash, once per user after the parameters were raised), so
// it is done before anything can end the process; when it fails (all
// hashing slots taken, the database away) the next sign-in tries again.
// It reports whether a new hash was stored.
func upgrade(ctx context.Context, p *password.Hasher, store rehashStore, userID, oldHash, pw string) (bool, error) {
	if !p.NeedsRehash(oldHash) {
		return false, nil
	}
	next, err := p.Hash(ctx, pw)
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
func (s *Service) rehash(r *http.Request, u *storage.User, pw string) {
	// Not cancelled with the request: a browser that goes away mid-hash
	// should not waste the work.
	ctx := context.WithoutCancel(r.Context())
	upgraded, err := upgrade(ctx, s.cfg.Passwords, s.cfg.Store, u.ID, u.PasswordHash, pw)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "password rehash failed; the next sign-in tries again", "user", u.ID, "err", err)
		return
	}
	if upgraded {
		s.audit(r, "password_rehashed", u.ID, "", "stronger parameters")
	}
}
