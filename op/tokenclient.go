package op

import (
	"context"
	"sync"
)

// zitadel/oidc asks the storage for "the" signing key with nothing but the
// request's context, while each client may name its own algorithm. The
// token endpoint therefore carries a slot in the context, and the storage
// methods that learn which client a token request is for (the code's, the
// refresh token's, the machine client's) fill it; SigningKey reads it.

type tokenClientKey struct{}

type tokenClient struct {
	mu sync.Mutex
	id string
}

// withTokenClient gives a token request its empty slot.
func withTokenClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, tokenClientKey{}, &tokenClient{})
}

// setTokenClient records the client the request's tokens are for; outside
// a token request it does nothing.
func setTokenClient(ctx context.Context, id string) {
	if c, ok := ctx.Value(tokenClientKey{}).(*tokenClient); ok {
		c.mu.Lock()
		c.id = id
		c.mu.Unlock()
	}
}

// tokenClientOf returns the client recorded for this token request, or "".
func tokenClientOf(ctx context.Context) string {
	c, ok := ctx.Value(tokenClientKey{}).(*tokenClient)
	if !ok {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}
