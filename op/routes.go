package op

import "net/http"

// endpoint is a protocol route and the methods it serves. zitadel/oidc's
// router takes every method on every path (a PUT to the token endpoint got
// 400, an OPTIONS to /authorize a CORS answer), so the methods are
// registered on the outer mux, which answers any other with 405 and Allow.
type endpoint struct {
	path    string
	methods []string
	cors    corsPolicy
}

// endpoints are the routes the provider serves. OIDC Core §3.1.2.1 and
// §5.3.1 require GET and POST at /authorize and /userinfo; RP-initiated
// logout takes both at /end_session.
var endpoints = []endpoint{
	{discoveryPath, []string{http.MethodGet}, corsPublic},
	{"/keys", []string{http.MethodGet}, corsPublic},
	{"/authorize", []string{http.MethodGet, http.MethodPost}, corsNone},
	{"/authorize/callback", []string{http.MethodGet}, corsNone},
	{"/oauth/token", []string{http.MethodPost}, corsClients},
	{"/oauth/introspect", []string{http.MethodPost}, corsClients},
	{"/revoke", []string{http.MethodPost}, corsClients},
	{"/userinfo", []string{http.MethodGet, http.MethodPost}, corsClients},
	{endSessionPath, []string{http.MethodGet, http.MethodPost}, corsNone},
	{logoutConfirmPath, []string{http.MethodPost}, corsNone},
	{"/ready", []string{http.MethodGet}, corsNone}, // zitadel/oidc's readiness probe
}

// Mount registers the protocol endpoints on mux, each with the methods it
// serves (GET includes HEAD) and, for those browsers call cross-origin,
// OPTIONS for the CORS preflight.
func (p *Provider) Mount(mux *http.ServeMux) {
	for _, e := range endpoints {
		for _, m := range e.methods {
			mux.Handle(m+" "+e.path, p)
		}
		if e.cors != corsNone {
			mux.Handle(http.MethodOptions+" "+e.path, p)
		}
	}
}

// endpointOf returns the endpoint of a path.
func endpointOf(path string) (endpoint, bool) {
	for _, e := range endpoints {
		if e.path == path {
			return e, true
		}
	}
	return endpoint{}, false
}
