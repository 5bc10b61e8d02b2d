package op

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
)

// discoveryPath is where relying parties read the provider's metadata.
const discoveryPath = "/.well-known/openid-configuration"

// discovery is the metadata document, built from zitadel/oidc's once per
// key set (the signing algorithms come from the keys) and served with
// validators, so the most-read endpoint costs a map lookup and a write.
type discovery struct {
	mu   sync.Mutex
	keys string // ETag of the JWKS the document was built for
	body []byte
	etag string
}

// supported is what twofold serves; zitadel/oidc also advertises the
// implicit and hybrid response types, the JWT-bearer grant (it comes with
// private_key_jwt) and the device flow, all of which twofold refuses.
var (
	supportedResponseTypes = []string{"code"}
	supportedGrantTypes    = []string{"authorization_code", "refresh_token", "client_credentials"}
	// supportedResponseModes are the ones zitadel/oidc answers with and
	// CreateAuthRequest lets through (query.jwt and the rest of JARM are
	// refused, not ignored).
	supportedResponseModes = []string{"query", "fragment", "form_post"}
)

// issuedClaims are the claims twofold's ID tokens and userinfo carry (with
// the scopes and a nonce that ask for them); zitadel/oidc's default list
// also names claims twofold never issues (act, scopes, given_name,
// family_name).
var issuedClaims = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "client_id",
	"at_hash", "c_hash", "sid", "preferred_username", "name", "locale", "email", "email_verified", "phone_number", "phone_number_verified"}

func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request, next http.Handler) {
	_, keys, err := p.opts.Keys.jwksDoc(r.Context())
	if err == nil {
		err = p.discovery.refresh(r, next, keys, p.opts.ACRValues)
	}
	if err != nil {
		p.opts.Logger.ErrorContext(r.Context(), "discovery", "err", err)
		writeInternal(w, err)
		return
	}
	d := &p.discovery
	d.mu.Lock()
	body, etag := d.body, d.etag
	d.mu.Unlock()
	servePublicJSON(w, r, body, etag)
}

// refresh rebuilds the document when the key set (named by its ETag) is
// not the one it was built for.
func (d *discovery) refresh(r *http.Request, next http.Handler, keys string, acr []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.keys == keys {
		return nil
	}
	if err := d.build(r, next, acr); err != nil {
		return err
	}
	d.keys = keys
	return nil
}

// build renders zitadel/oidc's document, removes what twofold refuses and
// adds what it serves beyond the library's knowledge: the acr values the
// login asserts (step-up asks for them) and the response modes.
func (d *discovery) build(r *http.Request, next http.Handler, acr []string) error {
	req := r.Clone(r.Context())
	req.Method, req.Body, req.ContentLength = http.MethodGet, http.NoBody, 0
	req.Header = http.Header{}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	next.ServeHTTP(rec, req)
	if rec.status != http.StatusOK {
		return fmt.Errorf("discovery answered %d", rec.status)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.body.Bytes(), &doc); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	doc["response_types_supported"] = supportedResponseTypes
	var grants []string
	if list, ok := doc["grant_types_supported"].([]any); ok {
		for _, g := range list {
			if s, ok := g.(string); ok && slices.Contains(supportedGrantTypes, s) {
				grants = append(grants, s)
			}
		}
	}
	doc["grant_types_supported"] = grants
	doc["response_modes_supported"] = supportedResponseModes
	if len(acr) > 0 {
		doc["acr_values_supported"] = acr
	}
	// zitadel/oidc authenticates introspection from Basic and assertions
	// only; checkClientAuth moves a client_secret_post client's credentials.
	doc["introspection_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
	delete(doc, "device_authorization_endpoint")
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	d.body, d.etag = body, etagOf(body)
	return nil
}

// recorder captures a response in memory.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.status = code }
