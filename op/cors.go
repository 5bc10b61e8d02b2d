package op

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// corsPolicy says which cross-origin callers an endpoint answers.
// zitadel/oidc's default CORS handler reflected any Origin with
// credentials on every endpoint, /authorize included; it is turned off and
// this is the whole policy.
type corsPolicy int

const (
	// corsNone: browser endpoints (navigations, never fetched
	// cross-origin) answer no CORS at all.
	corsNone corsPolicy = iota
	// corsPublic: public documents (discovery, keys) answer any origin
	// with "*", so without credentials.
	corsPublic
	// corsClients: the API endpoints answer the origins of registered
	// redirect URIs (single-page applications), never with credentials:
	// they authenticate with tokens and secrets, not cookies.
	corsClients
)

// corsMaxAge is how long a browser may cache a preflight answer.
const corsMaxAge = "600"

// cors sets the CORS headers of endpoint e and answers a preflight (or any
// OPTIONS); it reports whether the request is answered.
func (p *Provider) cors(w http.ResponseWriter, r *http.Request, e endpoint) bool {
	h := w.Header()
	origin := r.Header.Get("Origin")
	allow := ""
	switch e.cors {
	case corsPublic:
		allow = "*"
	case corsClients:
		h.Add("Vary", "Origin") // the answer depends on it
		if origin != "" && p.originAllowed(r.Context(), origin) {
			allow = origin
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
		}
	}
	if allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
	}
	if r.Method != http.MethodOptions {
		return false
	}
	methods := allowedMethods(e)
	h.Set("Allow", strings.Join(methods, ", "))
	if allow != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match")
		h.Set("Access-Control-Max-Age", corsMaxAge)
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// allowedMethods is the Allow list of an endpoint, as net/http writes it.
func allowedMethods(e endpoint) []string {
	out := slices.Clone(e.methods)
	if slices.Contains(out, http.MethodGet) {
		out = append(out, http.MethodHead)
	}
	if e.cors != corsNone {
		out = append(out, http.MethodOptions)
	}
	slices.Sort(out)
	return out
}

// originAllowed reports whether origin is the origin of a redirect URI
// some client registered. A store failure answers no: CORS fails closed,
// and the request itself still gets its answer.
func (p *Provider) originAllowed(ctx context.Context, origin string) bool {
	want, ok := originOf(origin)
	if !ok {
		return false
	}
	clients, err := p.opts.Store.Clients(ctx)
	if err != nil {
		p.opts.Logger.WarnContext(ctx, "CORS: clients not readable", "err", err)
		return false
	}
	for _, c := range clients {
		for _, uri := range c.RedirectURIs {
			if got, ok := originOf(uri); ok && got == want {
				return true
			}
		}
	}
	return false
}

// originOf returns the serialised origin of an http(s) URL or Origin
// header (RFC 6454): scheme and host in lower case, the default port
// dropped; false for anything else ("null", custom schemes, user info).
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Hostname() == "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme == "https" && (port == "443" || port == ""):
		port = ""
	case scheme == "http" && (port == "80" || port == ""):
		port = ""
	case scheme != "https" && scheme != "http":
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port), true
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	return scheme + "://" + host, true
}
