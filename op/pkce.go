package op

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/storage"
)

// zitadel/oidc compares the code_verifier after loading the code's request
// and leaves the code as it was when they differ, so whoever holds an
// intercepted code could try again. The token endpoint's wrapper carries
// the verifier in the context, and AuthRequestByCode checks it first and
// spends the code on a mismatch.

type verifierKey struct{}

// withVerifier carries a token request's code_verifier to AuthRequestByCode.
func withVerifier(ctx context.Context, v string) context.Context {
	return context.WithValue(ctx, verifierKey{}, v)
}

// checkVerifier spends the code of a when the request's verifier does not
// match its challenge, and says so; a request without a verifier or a
// request without a challenge is left to zitadel/oidc's own checks.
func (s *oidcStorage) checkVerifier(ctx context.Context, a *storage.AuthRequest, now time.Time) error {
	v, _ := ctx.Value(verifierKey{}).(string)
	if v == "" || a.CodeChallenge == "" {
		return nil
	}
	challenge := &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
	if oidc.VerifyCodeChallenge(challenge, v) {
		return nil
	}
	// Lost to a concurrent exchange (ErrAlreadyUsed): the code is spent anyway.
	if err := s.store.RedeemAuthCode(ctx, a.ID, now); err != nil && !errors.Is(err, storage.ErrAlreadyUsed) {
		return storeError(ctx, err)
	}
	s.audit(ctx, "pkce_failed", a.ClientID, a.UserID, "code spent")
	return oidc.ErrInvalidGrant().WithDescription("code_verifier does not match the code_challenge; the code can no longer be used")
}
