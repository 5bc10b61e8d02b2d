package op

import (
	"context"
	"errors"
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

// usedAuthMethod is how a request to the token, introspection or
// revocation endpoint authenticates its client, and the client id it
// names ("" for an assertion, whose client is inside it). A Basic header
// with an empty password is how some libraries send a public client's id.
func usedAuthMethod(r *http.Request) (clientID string, method oidc.AuthMethod) {
	if r.Form.Get("client_assertion") != "" || r.Form.Get("client_assertion_type") != "" {
		return "", oidc.AuthMethodPrivateKeyJWT
	}
	if user, pass, ok := r.BasicAuth(); ok {
		id, _ := url.QueryUnescape(user)
		if secret, _ := url.QueryUnescape(pass); secret == "" {
			return id, oidc.AuthMethodNone
		}
		return id, oidc.AuthMethodBasic
	}
	if r.Form.Get("client_secret") != "" {
		return r.Form.Get("client_id"), oidc.AuthMethodPost
	}
	return r.Form.Get("client_id"), oidc.AuthMethodNone
}

// checkClientAuth refuses a client that authenticates with another method
// than the one it is registered for: zitadel/oidc checks a secret wherever
// it arrives, so a client_secret_basic client could send its secret in the
// body (where proxies and logs keep it). At the token endpoint only the
// registered method passes. Introspection and revocation take either
// secret method from a client with a secret, since libraries pick one of
// their own there (zitadel/oidc's resource server sends Basic, its relying
// party the body); a public client never passes with a secret, nor a
// secret client without one. Unknown clients and assertions are left to
// zitadel/oidc. At introspection, which zitadel/oidc authenticates from
// Basic only, credentials in the body are moved into the header.
func (p *Provider) checkClientAuth(r *http.Request) *oidc.Error {
	id, used := usedAuthMethod(r)
	if id == "" {
		return nil
	}
	if e := p.authMethodError(r.Context(), id, used, r.URL.Path == "/oauth/token"); e != nil {
		return e
	}
	if used == oidc.AuthMethodPost && r.URL.Path == "/oauth/introspect" {
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(r.Form.Get("client_secret")))
		for _, form := range []url.Values{r.Form, r.PostForm} {
			form.Del("client_id")
			form.Del("client_secret")
		}
	}
	return nil
}

// authMethodError refuses client id authenticating with used when it is
// registered for another method (at the token endpoint exactly that one,
// elsewhere either secret method for either); an unknown client is left to
// zitadel/oidc.
func (p *Provider) authMethodError(ctx context.Context, id string, used oidc.AuthMethod, tokenEndpoint bool) *oidc.Error {
	rec, err := p.opts.Store.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return serverError(err)
	}
	registered := oidc.AuthMethod(rec.AuthMethod)
	if used == registered || (!tokenEndpoint && withSecret(used) && withSecret(registered)) {
		return nil
	}
	return oidc.ErrInvalidClient().WithDescription("the client must authenticate with the method it is registered for (token_endpoint_auth_method)")
}

// withSecret reports whether a method authenticates with the client secret.
func withSecret(m oidc.AuthMethod) bool {
	return m == oidc.AuthMethodBasic || m == oidc.AuthMethodPost
}
