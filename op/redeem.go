package op

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/storage"
)

// The provider's built-in clients run in this process: the account pages
// sign in as a public client. Their code must be spent like any client's,
// or a code would stay live for its 60 seconds; calling /oauth/token
// through the whole HTTP handler did that with a recorder from
// net/http/httptest in the binary. RedeemCode takes the token endpoint's
// path without the HTTP: the same checks of ours and zitadel/oidc's, the
// same storage calls.

// RedeemCode spends an authorization code of a public client, as a token
// request with grant_type=authorization_code, client_id, redirect_uri and
// code_verifier does at /oauth/token: the client must be registered as
// public (token_endpoint_auth_method none), the verifier must have the
// token endpoint's syntax; then zitadel/oidc's ValidateAccessTokenRequest
// checks the code (a replayed one revokes what it issued, a wrong
// verifier spends it: AuthRequestByCode), PKCE, the client, its grant and
// the redirect URI, and CreateTokenResponse spends the code with the one
// conditional UPDATE and stores the tokens linked to the session, as for
// any client. The tokens are dropped: the caller needs the code spent.
//
// A refusal is an *oidc.Error of the client's kind (invalid_grant,
// invalid_client, invalid_request); a failure of ours is a server_error
// whose parent is the cause (storage.ErrUnavailable in an outage).
func (p *Provider) RedeemCode(ctx context.Context, clientID, redirectURI, code, verifier string) error {
	if !storage.ValidText(clientID) || !storage.ValidText(redirectURI) || !storage.ValidText(code) {
		return oidc.ErrInvalidRequest().WithDescription("the request is not UTF-8 text or holds NUL")
	}
	if code == "" {
		return oidc.ErrInvalidRequest().WithDescription("code missing") // zitadel/oidc's words at the endpoint
	}
	if e := verifierSyntax(verifier); e != nil {
		return e
	}
	ctx, out := withOutage(storage.WithMemo(ctx))
	ctx = tokenContext(zop.ContextWithIssuer(ctx, p.opts.Issuer), verifier)
	err := p.redeemCode(ctx, clientID, redirectURI, code, verifier)
	if cause := out.seen(); cause != nil {
		// zitadel/oidc rewraps some storage failures as the client's
		// (invalid_grant for a failed code lookup): the outage decides.
		return serverError(cause)
	}
	var e *oidc.Error
	if err != nil && !errors.As(err, &e) {
		return serverError(err)
	}
	return err
}

func (p *Provider) redeemCode(ctx context.Context, clientID, redirectURI, code, verifier string) error {
	if e := p.authMethodError(ctx, clientID, oidc.AuthMethodNone, true); e != nil {
		return e
	}
	req := &oidc.AccessTokenRequest{Code: code, RedirectURI: redirectURI,
		ClientID: clientID, CodeVerifier: verifier}
	authReq, client, err := zop.ValidateAccessTokenRequest(ctx, req, p.inner)
	if err != nil {
		return err
	}
	_, err = zop.CreateTokenResponse(ctx, authReq, client, p.inner, true, code, "")
	return err
}

// tokenContext is the context of a token request: the slot for the client
// its tokens are for (tokenclient.go) and the code_verifier that
// AuthRequestByCode checks first (pkce.go).
func tokenContext(ctx context.Context, verifier string) context.Context {
	return withVerifier(withTokenClient(ctx), verifier)
}

// verifierSyntax refuses a code_verifier that RFC 7636 §4.1 does not
// allow; an empty one is left to the PKCE checks.
func verifierSyntax(v string) *oidc.Error {
	if v != "" && !verifierRE.MatchString(v) {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier must be 43 to 128 characters of [A-Za-z0-9._~-]")
	}
	return nil
}
