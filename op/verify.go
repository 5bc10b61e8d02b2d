package op

import (
	"context"
	"errors"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/storage"
)

// ErrInvalidToken means a bearer token is malformed, unknown, expired,
// revoked or void under a session mark.
var ErrInvalidToken = errors.New("invalid, expired or revoked access token")

// VerifyAccessToken checks a bearer token this provider issued, opaque or
// JWT, against the store, so that revocation holds at once. The admin API
// authenticates with it.
func (p *Provider) VerifyAccessToken(ctx context.Context, raw string) (*storage.AccessToken, error) {
	if raw == "" || len(raw) > 4096 {
		return nil, ErrInvalidToken
	}
	var tokenID, subject string
	if plain, err := p.inner.Crypto().Decrypt(raw); err == nil {
		id, sub, ok := strings.Cut(plain, ":")
		if !ok {
			return nil, ErrInvalidToken
		}
		tokenID, subject = id, sub
	} else {
		claims, err := zop.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, raw, p.inner.AccessTokenVerifier(ctx))
		if errors.Is(err, storage.ErrUnavailable) { // the keys could not be loaded
			return nil, err
		} else if err != nil {
			return nil, ErrInvalidToken
		}
		tokenID, subject = claims.JWTID, claims.Subject
	}
	t, err := p.storage.activeToken(ctx, tokenID)
	if err != nil {
		return nil, err
	}
	if t.Subject != subject {
		return nil, ErrInvalidToken
	}
	return t, nil
}
