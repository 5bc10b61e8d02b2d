package op

import (
	"net/http"

	zop "github.com/zitadel/oidc/v3/pkg/op"
)

// Compile-time checks of the library interfaces the glue implements.
// zitadel/oidc finds most of them with a type assertion at run time
// (client_credentials only when the storage is a ClientCredentialsStorage,
// our userinfo only through CanSetUserinfoFromRequest, ID tokens on
// refresh only from an IDTokenRequest), so a method renamed or changed by
// a library upgrade would turn a feature off silently instead of failing
// the build.
var (
	_ zop.Storage                   = (*oidcStorage)(nil)
	_ zop.ClientCredentialsStorage  = (*oidcStorage)(nil)
	_ zop.CanSetUserinfoFromRequest = (*oidcStorage)(nil)
	_ zop.Client                    = (*client)(nil)
	_ zop.AuthRequest               = (*authRequest)(nil)
	_ zop.IDTokenRequest            = (*authRequest)(nil)
	_ zop.RefreshTokenRequest       = (*refreshRequest)(nil)
	_ zop.IDTokenRequest            = (*refreshRequest)(nil)
	_ zop.TokenRequest              = (*clientCredentialsRequest)(nil)
	_ zop.SigningKey                = (*signingKey)(nil)
	_ zop.Key                       = (*publicKey)(nil)
	_ http.Handler                  = (*Provider)(nil)
	_ http.ResponseWriter           = (*errorRewriter)(nil)
)
