package op

import "context"

type revokedTokenKey struct{}

// withRevokedToken carries the token a revocation request names, as the
// client sent it, past zitadel/oidc's decoding (see RevokeToken).
func withRevokedToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, revokedTokenKey{}, token)
}

// revokedTokenOf is the token withRevokedToken carries, or "".
func revokedTokenOf(ctx context.Context) string {
	v, _ := ctx.Value(revokedTokenKey{}).(string)
	return v
}
