package admin

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"
)

// KeyView is a signing key as admins see it: never the private key.
type KeyView struct {
	KID       string    `json:"kid"`
	Algorithm string    `json:"algorithm"`
	CreatedAt time.Time `json:"created_at"`
	// Active keys sign; a retired one stays in JWKS until VisibleUntil,
	// when every token it signed has expired.
	Active       bool       `json:"active"`
	VisibleUntil *time.Time `json:"visible_until,omitempty"`
}

// SigningKeys lists the keys still published in JWKS, newest first.
// Times are whole seconds, as RFC 3339 prints them.
func (a *Admin) SigningKeys(ctx context.Context) ([]KeyView, error) {
	keys, err := a.store.SigningKeys(ctx, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	out := make([]KeyView, len(keys))
	for i, k := range keys {
		out[i] = KeyView{KID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt.UTC().Truncate(time.Second), Active: k.RetiredAt == nil}
		if k.VisibleUntil != nil {
			until := k.VisibleUntil.UTC().Truncate(time.Second)
			out[i].VisibleUntil = &until
		}
	}
	return out, nil
}

// RotatedKey is a signing key a rotation made active.
type RotatedKey struct {
	KID       string `json:"kid"`
	Algorithm string `json:"algorithm"`
}

// RotateKeys makes a new key of every algorithm active now; the old ones
// stay in JWKS until the tokens they signed expire, and every replica
// picks the new ones up within seconds. Each new key is audited, those
// made before a failure too, and returned with the failure.
func (a *Admin) RotateKeys(ctx context.Context, actor Actor) ([]RotatedKey, error) {
	if a.cfg.Keys == nil {
		return nil, errors.New("admin: no signing keys to rotate")
	}
	kids, err := a.cfg.Keys.Rotate(ctx)
	order := slices.Clone(a.cfg.KeyOrder)
	for _, alg := range slices.Sorted(maps.Keys(kids)) {
		if !slices.Contains(order, alg) {
			order = append(order, alg)
		}
	}
	out := []RotatedKey{}
	for _, alg := range order {
		if kid, ok := kids[alg]; ok {
			a.audit(ctx, actor, "signing_key_rotated", "", "", string(alg)+" "+kid)
			out = append(out, RotatedKey{KID: kid, Algorithm: string(alg)})
		}
	}
	return out, err
}
