package op

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// ReuseGrace is how long a rotated refresh token, presented again by its
// client, still gets the refresh token it was rotated into instead of
// revoking the grant as reuse (Okta's and Auth0's reuse interval).
// Relying parties that run several processes (mod_auth_openidc under
// Apache's prefork children) refresh one token from several of them at
// once; without it the second request revoked the grant, the token the
// first one had just received included.
type ReuseGrace struct {
	// Confidential clients authenticate every refresh, so a stolen token
	// alone gets nothing.
	Confidential time.Duration
	// Public clients do not: 0 (reuse at once revokes) unless configured.
	Public time.Duration
}

// The successor's plaintext is derived, not stored: a keyed hash of the
// family and the presented token. Every replica computes the same
// successor for the same token without any secret in the database (only
// its hash is kept, as for every refresh token), so a presentation within
// the grace can be answered with it again, and concurrent rotations of one
// token agree on it. Knowing a token does not give its successor without
// secret_key; after the grace, presenting the token again is reuse as
// before.
func (s *oidcStorage) successorOf(t *storage.RefreshToken, presented string) string {
	return "rt_" + s.successors.Sum(t.FamilyID, presented)
}

// graceSuccessor returns the live token t was rotated into when t is
// presented again by its own client within that client's reuse grace; nil
// means the presentation is reuse.
func (s *oidcStorage) graceSuccessor(ctx context.Context, t *storage.RefreshToken) (*storage.RefreshToken, error) {
	if t.UsedAt == nil || t.SuccessorID == "" || t.RevokedAt != nil {
		return nil, nil // unused, revoked, or rotated before successors were recorded
	}
	if callerOf(ctx) != t.ClientID {
		return nil, nil // another client holds a copy: stolen
	}
	c, err := s.store.Client(ctx, t.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	grace := s.grace.Confidential
	if c.AuthMethod == string(oidc.AuthMethodNone) {
		grace = s.grace.Public
	}
	now := s.now()
	if now.Sub(*t.UsedAt) >= grace {
		return nil, nil
	}
	next, err := s.store.RefreshTokenByID(ctx, t.SuccessorID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if next.RevokedAt != nil || !now.Before(next.ExpiresAt) {
		return nil, nil
	}
	return next, nil
}

// rotate rotates the refresh token of r into the successor derived from
// the presented token, or, when this presentation falls within the reuse
// grace (the token was rotated a moment ago, maybe by a concurrent request
// of the same relying party), settles on the successor already issued. It
// returns the refresh token to send.
func (s *oidcStorage) rotate(ctx context.Context, r *refreshRequest, presented string) (string, error) {
	old, now := r.rec, s.now()
	raw := s.successorOf(old, presented)
	if r.replay == nil {
		next := &storage.RefreshToken{
			ID: keyring.RandomToken(16), TokenHash: s.tokens.Sum("refresh", raw), CreatedAt: now,
			FamilyID: old.FamilyID, ClientID: old.ClientID, UserID: old.UserID, Audience: old.Audience,
			Scopes: r.scopes, AMR: old.AMR, ACR: old.ACR, AuthTime: old.AuthTime,
			SessionID: old.SessionID, ExpiresAt: old.ExpiresAt,
		}
		err := s.store.RotateRefreshToken(ctx, old.ID, next, now)
		if err == nil {
			return raw, nil
		}
		if !errors.Is(err, storage.ErrAlreadyUsed) {
			return "", storeError(ctx, err)
		}
		// Used, revoked or expired since it was read: a concurrent request
		// rotated it (the grace may apply), or it is dead.
		fresh, err := s.store.RefreshTokenByID(ctx, old.ID)
		if err != nil {
			return "", storeError(ctx, err)
		}
		if r.replay, err = s.graceSuccessor(ctx, fresh); err != nil {
			return "", storeError(ctx, err)
		}
		if r.replay == nil {
			return "", s.reuse(ctx, fresh)
		}
	}
	if !s.tokens.Equal(r.replay.TokenHash, "refresh", raw) {
		// Not derived from this token (cannot happen for rotations that
		// recorded a successor): it cannot be handed out again.
		return "", s.reuse(ctx, old)
	}
	s.audit(ctx, "refresh_token_reuse_grace", old.ClientID, old.UserID, "successor issued again")
	return raw, nil
}
