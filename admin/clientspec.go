package admin

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// The client rules: every client, whether registered from the API, the
// command line, a test or the provider's own start-up (the account pages'
// and the demo's clients), is checked here, and each problem names its
// field as the API does (the command line maps fields to its flags).

var validGrants = []string{"authorization_code", "refresh_token", "client_credentials"}

// NewClientRecord validates a spec and builds the record and, for
// confidential clients, a secret with 256 bits of entropy. Missing
// settings get their defaults (a random id, a web application with the
// code and refresh grants, client_secret_basic or none, opaque access
// tokens). Every problem is reported at once, in one *Error.
func NewClientRecord(s ClientSpec, ring *keyring.Keyring, now time.Time) (*storage.Client, string, error) {
	s = s.withDefaults()
	if err := s.check(); err != nil {
		return nil, "", err
	}
	c := &storage.Client{
		ID: s.ID, Name: s.Name, AuthMethod: s.AuthMethod, ApplicationType: s.ApplicationType,
		RedirectURIs: s.RedirectURIs, PostLogoutRedirectURIs: s.PostLogoutRedirectURIs,
		GrantTypes: s.GrantTypes, AccessTokenFormat: s.AccessTokenFormat, JWKS: s.JWKS,
		IDTokenSignedResponseAlg: s.IDTokenSignedResponseAlg, BackchannelLogoutURI: s.BackchannelLogoutURI,
		Scopes: slices.Clone(s.Scopes), CreatedAt: now, UpdatedAt: now,
	}
	var secret string
	if hasSecret(s.AuthMethod) {
		secret = keyring.RandomToken(32)
		c.SecretHash = ring.Hasher(keyring.PurposeClientSecret).Sum(secret)
	}
	return c, secret, nil
}

// hasSecret reports whether a client of this authentication method is
// given a secret.
func hasSecret(authMethod string) bool {
	return authMethod == "client_secret_basic" || authMethod == "client_secret_post"
}

// withDefaults fills in what a spec leaves out.
func (s ClientSpec) withDefaults() ClientSpec {
	if s.ID == "" {
		s.ID = newClientID()
	}
	if s.ApplicationType == "" {
		s.ApplicationType = "web"
		if s.Public {
			s.ApplicationType = "user_agent"
		}
	}
	if len(s.GrantTypes) == 0 {
		s.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	switch {
	case s.AuthMethod == "" && s.Public:
		s.AuthMethod = "none"
	case s.AuthMethod == "" && s.JWKS != "":
		s.AuthMethod = "private_key_jwt"
	case s.AuthMethod == "":
		s.AuthMethod = "client_secret_basic"
	}
	if s.AccessTokenFormat == "" {
		s.AccessTokenFormat = "opaque"
	}
	return s
}

// check applies the client rules to a spec with its defaults.
func (s ClientSpec) check() error {
	var p problems
	if strings.TrimSpace(s.Name) == "" {
		p.add("name", "a display name is required")
	}
	if len(s.ID) > 64 || strings.ContainsAny(s.ID, ": \t\r\n/") {
		p.add("client_id", "at most 64 characters, no spaces, colons or slashes (got %q)", s.ID)
	}
	if !slices.Contains([]string{"web", "native", "user_agent"}, s.ApplicationType) {
		p.add("application_type", "must be web, native or user_agent (got %q)", s.ApplicationType)
	}
	for _, g := range s.GrantTypes {
		if !slices.Contains(validGrants, g) {
			p.add("grant_types", "must be one of %s (got %q)", strings.Join(validGrants, ", "), g)
		}
	}
	s.checkAuth(&p)
	s.checkURIs(&p)
	if s.AccessTokenFormat != "opaque" && s.AccessTokenFormat != "jwt" {
		p.add("access_token_format", "must be opaque or jwt (got %q)", s.AccessTokenFormat)
	}
	if a := s.IDTokenSignedResponseAlg; a != "" && a != "RS256" && a != "ES256" {
		p.add("id_token_signed_response_alg", "must be RS256 or ES256 (got %q)", a)
	}
	for _, sc := range s.Scopes {
		if !slices.Contains(ExtraScopes, sc) {
			p.add("scopes", "%q is not a scope twofold grants (known: %s)", sc, strings.Join(ExtraScopes, ", "))
		}
	}
	return p.err()
}

// checkAuth checks the authentication method against the grants and keys.
func (s ClientSpec) checkAuth(p *problems) {
	if !slices.Contains([]string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}, s.AuthMethod) {
		p.add("token_endpoint_auth_method", "must be client_secret_basic, client_secret_post, private_key_jwt or none (got %q)", s.AuthMethod)
	}
	if s.Public && s.AuthMethod != "none" {
		p.add("public", "a public client authenticates with PKCE alone (auth method none)")
	}
	if s.AuthMethod == "none" && slices.Contains(s.GrantTypes, "client_credentials") {
		p.add("grant_types", "client_credentials needs a confidential client")
	}
	if s.AuthMethod != "private_key_jwt" {
		return
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(s.JWKS), &set); err != nil || len(set.Keys) == 0 {
		p.add("jwks", "private_key_jwt needs a JWK Set with at least one public key")
		return
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			p.add("jwks", "key %q is private; register public keys only", k.KeyID)
		}
	}
}

// checkURIs checks the redirect and logout URIs.
func (s ClientSpec) checkURIs(p *problems) {
	if slices.Contains(s.GrantTypes, "authorization_code") && len(s.RedirectURIs) == 0 {
		p.add("redirect_uris", "at least one is needed for the authorization_code grant")
	}
	for _, u := range s.RedirectURIs {
		if err := CheckRedirectURI(u, s.ApplicationType); err != nil {
			p.add("redirect_uris", "%v", err)
		}
	}
	for _, u := range s.PostLogoutRedirectURIs {
		if err := CheckRedirectURI(u, s.ApplicationType); err != nil {
			p.add("post_logout_redirect_uris", "%v", err)
		}
	}
	if s.BackchannelLogoutURI != "" {
		if err := CheckBackchannelLogoutURI(s.BackchannelLogoutURI); err != nil {
			p.add("backchannel_logout_uri", "%v", err)
		}
	}
}

// CheckRedirectURI allows exact https URIs, http only on loopback, and
// custom schemes only for native apps. No wildcards, no fragments.
func CheckRedirectURI(raw, appType string) error {
	if strings.Contains(raw, "*") {
		return fmt.Errorf("%q: wildcards (*) are not allowed: a redirect URI must match exactly, so that a code cannot be sent to a look-alike address; register each URI in full (repeat the setting for several)", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || strings.ContainsAny(raw, " \t\r\n") || len(raw) > 2000 {
		return fmt.Errorf("%q is not an absolute URI (like https://app.example/callback)", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q must not have a fragment", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("%q has no host", raw)
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("%q: http is allowed only for localhost and loopback addresses; use https", raw)
		}
	default:
		if appType != "native" {
			return fmt.Errorf("%q: custom schemes are for native applications only (application type native)", raw)
		}
	}
	return nil
}

// CheckBackchannelLogoutURI allows an absolute https URI, or http only on
// loopback; no fragment (Back-Channel Logout 1.0 section 2.2). The provider
// calls it from the server side, so custom schemes make no sense.
func CheckBackchannelLogoutURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || strings.ContainsAny(raw, " \t\r\n") || len(raw) > 2000 {
		return fmt.Errorf("%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q must not have a fragment", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q must not carry credentials", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: http is allowed only for localhost and loopback addresses; use https", raw)
	}
	return fmt.Errorf("%q: must be https (or http on loopback)", raw)
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// newClientID returns a random client id that never starts with "-" or
// "_", so it can be passed to the CLI as an argument without "--".
func newClientID() string {
	for {
		if id := keyring.RandomToken(16); id[0] != '-' && id[0] != '_' {
			return id
		}
	}
}
