package op

import (
	"context"
	"sync"
)

// zitadel/oidc asks the storage for "the" signing key, and for the request
// behind a refresh token, with nothing but the request's context, while
// each client may name its own algorithm and the reuse grace is only for
// the client the token was issued to. The token endpoint therefore
// carries a slot in the context: GetClientByClientID, which zitadel/oidc
// calls for the client it authenticates, records the caller, and the
// storage methods that learn which client a token request is for (the
// code's, the refresh token's, the machine client's) record that one;
// SigningKey and the reuse grace read them.

type tokenClientKey struct{}

type tokenClient struct {
	mu     sync.Mutex
	id     string // the client the request's tokens are for
	caller string // the client the request authenticated as
}

// withTokenClient gives a token request its empty slot.
func withTokenClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, tokenClientKey{}, &tokenClient{})
}

func slotOf(ctx context.Context) *tokenClient {
	c, _ := ctx.Value(tokenClientKey{}).(*tokenClient)
	return c
}

// setTokenClient records the client the request's tokens are for; outside
// a token request it does nothing.
func setTokenClient(ctx context.Context, id string) {
	if c := slotOf(ctx); c != nil {
		c.mu.Lock()
		c.id = id
		c.mu.Unlock()
	}
}

// setCaller records the client the request authenticates as.
func setCaller(ctx context.Context, id string) {
	if c := slotOf(ctx); c != nil {
		c.mu.Lock()
		c.caller = id
		c.mu.Unlock()
	}
}

// tokenClientOf returns the client recorded for this token request, or "".
func tokenClientOf(ctx context.Context) string {
	c := slotOf(ctx)
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

// callerOf returns the client this token request authenticated as, or "".
func callerOf(ctx context.Context) string {
	c := slotOf(ctx)
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.caller
}

type assertedKey struct{}

// withAsserted marks a token request whose client proved itself with a
// private_key_jwt assertion the wrapper verified.
func withAsserted(ctx context.Context, clientID string) context.Context {
	return context.WithValue(ctx, assertedKey{}, clientID)
}

// asserted reports whether this request's client id was proven by an
// assertion.
func asserted(ctx context.Context, clientID string) bool {
	id, _ := ctx.Value(assertedKey{}).(string)
	return id != "" && id == clientID
}
