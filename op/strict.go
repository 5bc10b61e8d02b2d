package op

import (
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/storage"
)

// checkParams refuses what zitadel/oidc would read loosely: a parameter
// given more than once (RFC 6749 §3.1 forbids it; the library keeps the
// last value, so a client_id, redirect_uri or state could be smuggled past
// whatever read the first), and text no database column can hold.
func checkParams(r *http.Request) *oidc.Error {
	for name, values := range r.Form {
		if len(values) > 1 {
			return oidc.ErrInvalidRequest().WithDescription("%s is given more than once", paramName(name))
		}
	}
	return checkText(r)
}

// checkText refuses parameters and client credentials that no database
// column can hold (invalid UTF-8, NUL) as the caller's mistake, before
// zitadel/oidc stores or looks them up: PostgreSQL would answer with an
// error, and the client with a server_error anyone could trigger.
func checkText(r *http.Request) *oidc.Error {
	if name, bad := storage.InvalidField(r.Form); bad {
		return oidc.ErrInvalidRequest().WithDescription("%s is not UTF-8 text or holds NUL", paramName(name))
	}
	if id, secret, ok := r.BasicAuth(); ok {
		// zitadel/oidc unescapes both (RFC 6749 §2.3.1); check what it reads.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if !storage.ValidText(id) || !storage.ValidText(secret) {
			return oidc.ErrInvalidRequest().WithDescription("the client credentials are not UTF-8 text or hold NUL")
		}
	}
	return nil
}

// paramName names a parameter in an error description: the caller chose
// it, so a long one is not repeated back.
func paramName(name string) string {
	if name == "" || len(name) > 64 || !storage.ValidText(name) {
		return "a parameter"
	}
	return "parameter " + name
}
