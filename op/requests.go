package op

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/storage"
)

// authRequest adapts a storage.AuthRequest to op.AuthRequest.
type authRequest struct{ rec *storage.AuthRequest }

func (a *authRequest) GetID() string          { return a.rec.ID }
func (a *authRequest) GetACR() string         { return a.rec.ACR }
func (a *authRequest) GetAMR() []string       { return a.rec.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.rec.ClientID} }
func (a *authRequest) GetClientID() string    { return a.rec.ClientID }
func (a *authRequest) GetNonce() string       { return a.rec.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.rec.RedirectURI }
func (a *authRequest) GetScopes() []string    { return a.rec.Scopes }
func (a *authRequest) GetState() string       { return a.rec.State }
func (a *authRequest) GetSubject() string     { return a.rec.UserID }

// Done is zitadel/oidc's only gate to issuing a code: it is true exactly
// when the login package has completed every required step.
func (a *authRequest) Done() bool { return a.rec.DoneAt != nil && a.rec.UserID != "" }

func (a *authRequest) GetAuthTime() time.Time {
	if a.rec.AuthTime == nil {
		return time.Time{}
	}
	return *a.rec.AuthTime
}

func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.rec.ResponseType)
}

func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.rec.ResponseMode)
}

func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.rec.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.rec.CodeChallenge, Method: oidc.CodeChallengeMethod(a.rec.CodeChallengeMethod)}
}

// refreshRequest adapts a storage.RefreshToken to op.RefreshTokenRequest.
type refreshRequest struct {
	rec    *storage.RefreshToken
	scopes []string
	// replay is the token rec was already rotated into, when rec is
	// presented again within the reuse grace: it is issued again.
	replay *storage.RefreshToken
}

func (r *refreshRequest) GetAMR() []string            { return r.rec.AMR }
func (r *refreshRequest) GetAudience() []string       { return r.rec.Audience }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.rec.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.rec.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.rec.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// clientCredentialsRequest is the token request of a machine client.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (c *clientCredentialsRequest) GetSubject() string    { return c.clientID }
func (c *clientCredentialsRequest) GetAudience() []string { return []string{c.clientID} }
func (c *clientCredentialsRequest) GetScopes() []string   { return c.scopes }
