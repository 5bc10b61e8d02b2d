package op

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
	keys string // hash of the JWKS the document was built for
	body []byte
	etag string
}

// supported is what twofold serves; zitadel/oidc also advertises the
// implicit and hybrid response types, the JWT-bearer grant (it comes with
// private_key_jwt) and the device flow, all of which twofold refuses.
var (
	supportedResponseTypes = []string{"code"}
	supportedGrantTypes    = []string{"authorization_code", "refresh_token", "client_credentials"}
)

func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request, next http.Handler) {
	jwks, err := p.opts.Keys.JWKS(r.Context())
	if err != nil {
		p.opts.Logger.ErrorContext(r.Context(), "discovery", "err", err)
		writeError(w, false, http.StatusInternalServerError, "server_error", "internal error")
		return
	}
	sum := sha256.Sum256(jwks)
	d := &p.discovery
	d.mu.Lock()
	if d.keys != string(sum[:]) {
		if err := d.build(r, next); err != nil {
			d.mu.Unlock()
			p.opts.Logger.ErrorContext(r.Context(), "discovery", "err", err)
			writeError(w, false, http.StatusInternalServerError, "server_error", "internal error")
			return
		}
		d.keys = string(sum[:])
	}
	body, etag := d.body, d.etag
	d.mu.Unlock()
	// Browser clients (SPAs) read it cross-origin, as they do the keys.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body)
}

// build renders zitadel/oidc's document and removes what twofold refuses.
func (d *discovery) build(r *http.Request, next http.Handler) error {
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
	delete(doc, "device_authorization_endpoint")
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	d.body, d.etag = body, `"`+hex.EncodeToString(sum[:8])+`"`
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
