package op

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/storage"
)

// private_key_jwt client authentication at the token endpoint is ours, not
// zitadel/oidc's, which allows no clock skew (an assertion whose iat is a
// few seconds ahead of our clock, as any client's clock may be, is
// refused), reports a failed assertion as invalid_grant instead of
// invalid_client, and offers private_key_jwt to no client_credentials
// client. The wrapper verifies the assertion before the library sees the
// request, then hands it on as a request authenticated by that client: the
// assertion parameters are removed, client_id is set, and the context says
// which client proved itself, which GetClientByClientID and
// AuthorizeClientIDSecret honour for this request only.

// assertionMaxAge bounds how long ago an assertion may have been issued,
// as zitadel/oidc does.
const assertionMaxAge = time.Hour

// assertionAlgorithms are the signature algorithms a client may use.
var assertionAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// assertionClaims are the claims RFC 7523 section 3 requires of a client
// assertion.
type assertionClaims struct {
	Issuer    string        `json:"iss"`
	Subject   string        `json:"sub"`
	Audience  oidc.Audience `json:"aud"`
	ExpiresAt oidc.Time     `json:"exp"`
	IssuedAt  oidc.Time     `json:"iat"`
	NotBefore oidc.Time     `json:"nbf"`
}

// authenticateAssertion verifies a private_key_jwt client assertion on a
// token request. It returns the request to hand on (the same one when it
// carries no assertion) and false when it has answered the client itself.
func (p *Provider) authenticateAssertion(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	assertion, typ := r.PostForm.Get("client_assertion"), r.PostForm.Get("client_assertion_type")
	if assertion == "" && typ == "" {
		return r, true
	}
	if _, _, basic := r.BasicAuth(); basic || r.PostForm.Get("client_secret") != "" {
		writeError(w, nil, http.StatusBadRequest, "invalid_request", "client authentication must not use more than one method")
		return r, false
	}
	id, err := p.verifyAssertion(r, assertion, typ)
	if err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) && oe.ErrorType == oidc.ServerError {
			p.opts.Logger.ErrorContext(r.Context(), "client assertion", "err", err)
			writeInternal(w, err) // 503 when the database is away
			return r, false
		}
		p.storage.audit(r.Context(), "client_auth_failed", id, "", "client assertion refused")
		w.Header().Set("WWW-Authenticate", `Basic realm="twofold"`)
		writeError(w, nil, http.StatusUnauthorized, "invalid_client", err.Error())
		return r, false
	}
	for _, form := range []map[string][]string{r.Form, r.PostForm} {
		delete(form, "client_assertion")
		delete(form, "client_assertion_type")
		form["client_id"] = []string{id}
	}
	return r.WithContext(withAsserted(r.Context(), id)), true
}

// verifyAssertion checks an assertion and returns the client it
// authenticates. Its errors are the description sent to the client,
// except server_error, whose cause is logged.
func (p *Provider) verifyAssertion(r *http.Request, assertion, typ string) (string, error) {
	if typ != oidc.ClientAssertionTypeJWTAssertion {
		return "", errors.New("client_assertion_type must be " + oidc.ClientAssertionTypeJWTAssertion)
	}
	jws, err := jose.ParseSigned(assertion, assertionAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return "", errors.New("client_assertion is not a signed JWT")
	}
	var c assertionClaims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		return "", errors.New("client_assertion claims cannot be read")
	}
	if c.Issuer == "" || c.Subject != c.Issuer {
		return "", errors.New("client_assertion iss and sub must both be the client id")
	}
	if id := r.PostForm.Get("client_id"); id != "" && id != c.Issuer {
		return c.Issuer, errors.New("client_id does not match the client assertion")
	}
	if err := p.checkAssertionKey(r, jws, c.Issuer); err != nil {
		return c.Issuer, err
	}
	return c.Issuer, p.checkAssertionClaims(c)
}

// checkAssertionKey checks that the client is registered for
// private_key_jwt and that one of its keys made the signature.
func (p *Provider) checkAssertionKey(r *http.Request, jws *jose.JSONWebSignature, clientID string) error {
	rec, err := p.opts.Store.Client(r.Context(), clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return errors.New("unknown client")
	} else if err != nil {
		return storeError(r.Context(), err)
	}
	if rec.AuthMethod != string(oidc.AuthMethodPrivateKeyJWT) {
		return errors.New("the client is not registered for private_key_jwt")
	}
	h := jws.Signatures[0].Header
	key, err := p.storage.GetKeyByIDAndClientID(r.Context(), h.KeyID, clientID)
	if err != nil {
		return errors.New("no registered key of the client matches the assertion's kid")
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return errors.New("the assertion's alg is not the registered key's")
	}
	if _, err := jws.Verify(key); err != nil {
		return errors.New("client_assertion signature does not verify with the client's registered keys")
	}
	return nil
}

// checkAssertionClaims checks audience and times, allowing the configured
// clock skew either way.
func (p *Provider) checkAssertionClaims(c assertionClaims) error {
	token := p.opts.Issuer + "/oauth/token"
	if !slices.Contains(c.Audience, p.opts.Issuer) && !slices.Contains(c.Audience, token) {
		return errors.New("client_assertion aud must name the issuer or the token endpoint")
	}
	now, skew := p.opts.Now(), p.opts.AssertionLeeway
	switch {
	case c.ExpiresAt == 0 || c.IssuedAt == 0:
		return errors.New("client_assertion needs exp and iat")
	case !now.Before(c.ExpiresAt.AsTime().Add(skew)):
		return errors.New("client_assertion has expired")
	case c.IssuedAt.AsTime().After(now.Add(skew)):
		return errors.New("client_assertion was issued in the future (check the client's clock)")
	case c.NotBefore != 0 && c.NotBefore.AsTime().After(now.Add(skew)):
		return errors.New("client_assertion is not valid yet (nbf)")
	case now.Sub(c.IssuedAt.AsTime()) > assertionMaxAge+skew:
		return errors.New("client_assertion was issued more than an hour ago")
	}
	return nil
}
