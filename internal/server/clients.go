package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// NewID returns a new record id.
func NewID() string { return uuid.NewString() }

// ClientSpec is what a new client is made from.
type ClientSpec struct {
	ID, Name               string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Public                 bool
	AuthMethod             string
	ApplicationType        string
	AccessTokenFormat      string
	// IDTokenSignedResponseAlg signs the client's ID tokens, JWT access
	// tokens and logout tokens: RS256, ES256, or empty for keys.algorithm.
	IDTokenSignedResponseAlg string
	JWKS                     string
	// BackchannelLogoutURI receives a logout token whenever a session the
	// client signed in through ends (Back-Channel Logout 1.0).
	BackchannelLogoutURI string
}

var validGrants = []string{"authorization_code", "refresh_token", "client_credentials"}

// NewClient validates a spec and builds the record and, for confidential
// clients, a secret with 256 bits of entropy.
func NewClient(s ClientSpec, ring *keyring.Keyring, now time.Time) (*storage.Client, string, error) {
	var errs []error
	if s.ID == "" {
		s.ID = newClientID()
	}
	if len(s.ID) > 64 || strings.ContainsAny(s.ID, ": \t\r\n/") {
		errs = append(errs, fmt.Errorf("--id: at most 64 characters, no spaces, colons or slashes (got %q)", s.ID))
	}
	if s.ApplicationType == "" {
		s.ApplicationType = "web"
		if s.Public {
			s.ApplicationType = "user_agent"
		}
	}
	if !slices.Contains([]string{"web", "native", "user_agent"}, s.ApplicationType) {
		errs = append(errs, fmt.Errorf("--application-type: must be web, native or user_agent (got %q)", s.ApplicationType))
	}
	if len(s.GrantTypes) == 0 {
		s.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	for _, g := range s.GrantTypes {
		if !slices.Contains(validGrants, g) {
			errs = append(errs, fmt.Errorf("--grant-type: must be one of %s (got %q)", strings.Join(validGrants, ", "), g))
		}
	}
	switch {
	case s.AuthMethod == "" && s.Public:
		s.AuthMethod = "none"
	case s.AuthMethod == "" && s.JWKS != "":
		s.AuthMethod = "private_key_jwt"
	case s.AuthMethod == "":
		s.AuthMethod = "client_secret_basic"
	}
	if !slices.Contains([]string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}, s.AuthMethod) {
		errs = append(errs, fmt.Errorf("--auth-method: must be client_secret_basic, client_secret_post, private_key_jwt or none (got %q)", s.AuthMethod))
	}
	if s.Public && s.AuthMethod != "none" {
		errs = append(errs, errors.New("--public: a public client authenticates with PKCE alone (auth method none)"))
	}
	if s.AuthMethod == "none" && slices.Contains(s.GrantTypes, "client_credentials") {
		errs = append(errs, errors.New("--grant-type client_credentials needs a confidential client"))
	}
	if s.AuthMethod == "private_key_jwt" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(s.JWKS), &set); err != nil || len(set.Keys) == 0 {
			errs = append(errs, errors.New("--jwks-file: private_key_jwt needs a JWK Set with at least one public key"))
		} else {
			for _, k := range set.Keys {
				if !k.IsPublic() {
					errs = append(errs, fmt.Errorf("--jwks-file: key %q is private; register public keys only", k.KeyID))
				}
			}
		}
	}
	if slices.Contains(s.GrantTypes, "authorization_code") && len(s.RedirectURIs) == 0 {
		errs = append(errs, errors.New("--redirect-uri: at least one is needed for the authorization_code grant"))
	}
	for _, u := range s.RedirectURIs {
		if err := CheckRedirectURI(u, s.ApplicationType); err != nil {
			errs = append(errs, fmt.Errorf("--redirect-uri: %w", err))
		}
	}
	for _, u := range s.PostLogoutRedirectURIs {
		if err := CheckRedirectURI(u, s.ApplicationType); err != nil {
			errs = append(errs, fmt.Errorf("--post-logout-redirect-uri: %w", err))
		}
	}
	if s.BackchannelLogoutURI != "" {
		if err := CheckBackchannelLogoutURI(s.BackchannelLogoutURI); err != nil {
			errs = append(errs, fmt.Errorf("--backchannel-logout-uri: %w", err))
		}
	}
	if s.AccessTokenFormat == "" {
		s.AccessTokenFormat = "opaque"
	}
	if s.AccessTokenFormat != "opaque" && s.AccessTokenFormat != "jwt" {
		errs = append(errs, fmt.Errorf("--access-token-format: must be opaque or jwt (got %q)", s.AccessTokenFormat))
	}
	if s.IDTokenSignedResponseAlg != "" && s.IDTokenSignedResponseAlg != "RS256" && s.IDTokenSignedResponseAlg != "ES256" {
		errs = append(errs, fmt.Errorf("--id-token-signed-response-alg: must be RS256 or ES256 (got %q)", s.IDTokenSignedResponseAlg))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, "", err
	}
	c := &storage.Client{
		ID: s.ID, Name: s.Name, AuthMethod: s.AuthMethod, ApplicationType: s.ApplicationType,
		RedirectURIs: s.RedirectURIs, PostLogoutRedirectURIs: s.PostLogoutRedirectURIs,
		GrantTypes: s.GrantTypes, AccessTokenFormat: s.AccessTokenFormat, JWKS: s.JWKS,
		IDTokenSignedResponseAlg: s.IDTokenSignedResponseAlg,
		BackchannelLogoutURI:     s.BackchannelLogoutURI, CreatedAt: now, UpdatedAt: now,
	}
	var secret string
	if s.AuthMethod == "client_secret_basic" || s.AuthMethod == "client_secret_post" {
		secret = keyring.RandomToken(32)
		c.SecretHash = ring.Hasher(keyring.PurposeClientSecret).Sum(secret)
	}
	return c, secret, nil
}

// CheckRedirectURI allows exact https URIs, http only on loopback, and
// custom schemes only for native apps. No wildcards, no fragments.
func CheckRedirectURI(raw, appType string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || strings.ContainsAny(raw, "* \t\r\n") || len(raw) > 2000 {
		return fmt.Errorf("%q is not an absolute URI", raw)
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
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%q: http is allowed only for localhost and loopback addresses; use https", raw)
		}
	default:
		if appType != "native" {
			return fmt.Errorf("%q: custom schemes are for native apps (--application-type native)", raw)
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
