package op

import (
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/storage"
)

// client adapts a storage.Client to zitadel/oidc's op.Client.
type client struct {
	rec        *storage.Client
	loginURL   string
	idTokenTTL time.Duration
	// asserted: this token request's client proved itself with a
	// private_key_jwt assertion the provider's wrapper verified.
	asserted bool
}

func (c *client) GetID() string                    { return c.rec.ID }
func (c *client) RedirectURIs() []string           { return c.rec.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.rec.PostLogoutRedirectURIs }
func (c *client) LoginURL(id string) string {
	return c.loginURL + "?authRequestID=" + url.QueryEscape(id)
}
func (c *client) IDTokenLifetime() time.Duration { return c.idTokenTTL }
func (c *client) ClockSkew() time.Duration       { return 0 }

// DevMode only relaxes zitadel/oidc's scheme policy for redirect URIs that
// already matched exactly; registration enforces ours (https, http only on
// loopback, custom schemes only for native apps), so it is safe on.
func (c *client) DevMode() bool { return true }

// IDTokenUserinfoClaimsAssertion puts profile and email claims in the ID
// token too, which most relying parties expect.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c *client) ApplicationType() zop.ApplicationType {
	switch c.rec.ApplicationType {
	case "native":
		return zop.ApplicationTypeNative
	case "user_agent":
		return zop.ApplicationTypeUserAgent
	}
	return zop.ApplicationTypeWeb
}

// AuthMethod is the registered method, except for a request whose
// private_key_jwt assertion the wrapper already verified: zitadel/oidc
// then takes the client-secret path, whose check AuthorizeClientIDSecret
// answers from the context (the library's own assertion check allows no
// clock skew and serves no client_credentials client).
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.asserted {
		return oidc.AuthMethodPost
	}
	return oidc.AuthMethod(c.rec.AuthMethod)
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	if slices.Contains(c.rec.GrantTypes, string(oidc.GrantTypeCode)) {
		return []oidc.ResponseType{oidc.ResponseTypeCode}
	}
	return nil
}

func (c *client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.rec.GrantTypes))
	for i, g := range c.rec.GrantTypes {
		out[i] = oidc.GrantType(g)
	}
	return out
}

func (c *client) AccessTokenType() zop.AccessTokenType {
	if c.rec.AccessTokenFormat == "jwt" {
		return zop.AccessTokenTypeJWT
	}
	return zop.AccessTokenTypeBearer
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits the extra scopes the client is registered for
// (such as twofold:admin); zitadel/oidc drops the others from the request.
func (c *client) IsScopeAllowed(scope string) bool { return c.rec.Scopes.Contains(scope) }

// IsPublic reports whether the client authenticates with PKCE alone.
func (c *client) IsPublic() bool { return c.rec.AuthMethod == string(oidc.AuthMethodNone) }
