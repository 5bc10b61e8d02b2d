package admin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/twofold-id/twofold/account"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// ClientSpec is what a new client is made from (server.ClientSpec's
// fields, in JSON), plus the extra scopes it may ask for.
type ClientSpec struct {
	ID                       string   `json:"client_id,omitempty"`
	Name                     string   `json:"name"`
	RedirectURIs             []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs   []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes               []string `json:"grant_types,omitempty"`
	Public                   bool     `json:"public,omitempty"`
	AuthMethod               string   `json:"token_endpoint_auth_method,omitempty"`
	ApplicationType          string   `json:"application_type,omitempty"`
	AccessTokenFormat        string   `json:"access_token_format,omitempty"`
	IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg,omitempty"`
	JWKS                     string   `json:"jwks,omitempty"`
	BackchannelLogoutURI     string   `json:"backchannel_logout_uri,omitempty"`
	Scopes                   []string `json:"scopes,omitempty"`
}

// ClientPatch changes the editable settings of a client; nil leaves a
// setting as it is.
type ClientPatch struct {
	Name                     *string   `json:"name"`
	RedirectURIs             *[]string `json:"redirect_uris"`
	PostLogoutRedirectURIs   *[]string `json:"post_logout_redirect_uris"`
	GrantTypes               *[]string `json:"grant_types"`
	AccessTokenFormat        *string   `json:"access_token_format"`
	IDTokenSignedResponseAlg *string   `json:"id_token_signed_response_alg"`
	BackchannelLogoutURI     *string   `json:"backchannel_logout_uri"`
	Scopes                   *[]string `json:"scopes"`
}

// ClientView is a client as the API shows it; the secret appears only in
// the answer that created or rotated it.
type ClientView struct {
	ClientID               string   `json:"client_id"`
	ClientSecret           string   `json:"client_secret,omitempty"`
	Name                   string   `json:"name"`
	AuthMethod             string   `json:"token_endpoint_auth_method"`
	ApplicationType        string   `json:"application_type"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	GrantTypes             []string `json:"grant_types"`
	AccessTokenFormat      string   `json:"access_token_format"`
	// IDTokenSignedResponseAlg is empty when the client follows keys.algorithm.
	IDTokenSignedResponseAlg string    `json:"id_token_signed_response_alg"`
	BackchannelLogoutURI     string    `json:"backchannel_logout_uri"`
	Scopes                   []string  `json:"scopes"`
	CreatedAt                time.Time `json:"created_at"`
	UpdatedAt                time.Time `json:"updated_at"`
}

// ViewClient is the API's view of a client record.
func ViewClient(c *storage.Client, secret string) ClientView {
	return ClientView{ClientID: c.ID, ClientSecret: secret, Name: c.Name, AuthMethod: c.AuthMethod,
		ApplicationType: c.ApplicationType, RedirectURIs: nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), GrantTypes: nonNil(c.GrantTypes),
		AccessTokenFormat: c.AccessTokenFormat, IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg,
		BackchannelLogoutURI: c.BackchannelLogoutURI, Scopes: nonNil(c.Scopes), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// flagFields maps the flags server.NewClient names in its messages onto
// the API's field names.
var flagFields = map[string]string{
	"--id": "client_id", "--redirect-uri": "redirect_uris", "--post-logout-redirect-uri": "post_logout_redirect_uris",
	"--grant-type": "grant_types", "--auth-method": "token_endpoint_auth_method", "--public": "public",
	"--application-type": "application_type", "--access-token-format": "access_token_format", "--jwks-file": "jwks",
	"--backchannel-logout-uri": "backchannel_logout_uri", "--id-token-signed-response-alg": "id_token_signed_response_alg",
}

// clientError turns server.NewClient's validation error (flag-prefixed
// lines) into an invalid_argument Error naming the first field.
func clientError(err error) error {
	msg := err.Error()
	field := ""
	first, _, _ := strings.Cut(msg, "\n")
	if flag, _, ok := strings.Cut(first, ":"); ok {
		flag, _, _ = strings.Cut(flag, " ")
		field = flagFields[flag]
		if field == "" && strings.HasPrefix(flag, "--") {
			field = strings.ReplaceAll(strings.TrimPrefix(flag, "--"), "-", "_")
		}
	}
	for flag, f := range flagFields {
		msg = strings.ReplaceAll(msg, flag, f)
	}
	return &Error{Status: 400, Code: CodeInvalidArgument, Field: field, Message: strings.ReplaceAll(msg, "\n", "; ")}
}

func checkScopes(scopes []string) error {
	for _, s := range scopes {
		if !slices.Contains(ExtraScopes, s) {
			return invalid("scopes", "%q is not a scope twofold grants (known: %s)", s, strings.Join(ExtraScopes, ", "))
		}
	}
	return nil
}

// Clients lists every client.
func (a *Admin) Clients(ctx context.Context) ([]storage.Client, error) { return a.store.Clients(ctx) }

// CreateClient validates and registers a client and returns it with its
// secret (empty for public clients), shown this once.
func (a *Admin) CreateClient(ctx context.Context, actor Actor, s ClientSpec) (*storage.Client, string, error) {
	if strings.TrimSpace(s.Name) == "" {
		return nil, "", invalid("name", "a display name is required")
	}
	if err := checkScopes(s.Scopes); err != nil {
		return nil, "", err
	}
	rec, secret, err := a.cfg.NewClient(s)
	if err != nil {
		return nil, "", clientError(err)
	}
	rec.Scopes = slices.Clone(s.Scopes)
	if err := a.store.CreateClient(ctx, rec); errors.Is(err, storage.ErrConflict) {
		return nil, "", conflict("client_id", "a client with id %q already exists", rec.ID)
	} else if err != nil {
		return nil, "", err
	}
	a.audit(ctx, actor, "client_created", "", rec.ID, "")
	return rec, secret, nil
}

// Bootstrap creates a machine client (client_credentials) granted the
// admin scope: the first admin credential, made from the command line.
func (a *Admin) Bootstrap(ctx context.Context, actor Actor, name string) (*storage.Client, string, error) {
	if name == "" {
		name = "twofold admin"
	}
	return a.CreateClient(ctx, actor, ClientSpec{Name: name, GrantTypes: []string{"client_credentials"}, Scopes: []string{Scope}})
}

// UpdateClient applies a patch, validated by the same rules as a new
// client; the secret and the authentication method stay.
func (a *Admin) UpdateClient(ctx context.Context, actor Actor, id string, p ClientPatch) (*storage.Client, error) {
	c, err := a.FindClient(ctx, "id", id)
	if err != nil {
		return nil, err
	}
	s := ClientSpec{ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		GrantTypes: c.GrantTypes, Public: c.AuthMethod == "none", AuthMethod: c.AuthMethod,
		ApplicationType: c.ApplicationType, AccessTokenFormat: c.AccessTokenFormat, JWKS: c.JWKS,
		IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg, BackchannelLogoutURI: c.BackchannelLogoutURI, Scopes: c.Scopes}
	set := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = *src
		}
	}
	if p.Name != nil {
		if strings.TrimSpace(*p.Name) == "" {
			return nil, invalid("name", "a display name is required")
		}
		s.Name = *p.Name
	}
	set(&s.RedirectURIs, p.RedirectURIs)
	set(&s.PostLogoutRedirectURIs, p.PostLogoutRedirectURIs)
	set(&s.GrantTypes, p.GrantTypes)
	set(&s.Scopes, p.Scopes)
	if p.BackchannelLogoutURI != nil {
		s.BackchannelLogoutURI = *p.BackchannelLogoutURI
	}
	if p.AccessTokenFormat != nil {
		s.AccessTokenFormat = *p.AccessTokenFormat
		if s.AccessTokenFormat == "" {
			return nil, invalid("access_token_format", "must be opaque or jwt")
		}
	}
	if p.IDTokenSignedResponseAlg != nil {
		s.IDTokenSignedResponseAlg = *p.IDTokenSignedResponseAlg // empty: back to keys.algorithm
	}
	if p.GrantTypes != nil && len(*p.GrantTypes) == 0 {
		return nil, invalid("grant_types", "name at least one grant type")
	}
	if err := checkScopes(s.Scopes); err != nil {
		return nil, err
	}
	next, _, err := a.cfg.NewClient(s)
	if err != nil {
		return nil, clientError(err)
	}
	c.Name, c.RedirectURIs, c.PostLogoutRedirectURIs = next.Name, next.RedirectURIs, next.PostLogoutRedirectURIs
	c.GrantTypes, c.AccessTokenFormat, c.Scopes, c.UpdatedAt = next.GrantTypes, next.AccessTokenFormat, s.Scopes, a.cfg.Now()
	c.BackchannelLogoutURI, c.IDTokenSignedResponseAlg = next.BackchannelLogoutURI, next.IDTokenSignedResponseAlg
	if err := a.store.UpdateClient(ctx, c); err != nil {
		return nil, err
	}
	a.audit(ctx, actor, "client_updated", "", c.ID, "")
	return c, nil
}

// builtInClients are the clients the provider's own pages sign in with,
// and what uses each. The server registers them only at start, so deleting
// one would break those pages until a restart. (The demo client is not
// here: it exists only in development mode and is seeded again at each
// start, and a production database may hold a leftover one worth removing.)
var builtInClients = map[string]string{
	account.ClientID: "the account pages (/account) sign in with it",
}

// DeleteClient removes a client and revokes its tokens. Built-in clients
// are refused with a conflict.
func (a *Admin) DeleteClient(ctx context.Context, actor Actor, id string) error {
	if use, ok := builtInClients[id]; ok {
		return conflict("id", "client %q is built in and cannot be deleted: %s", id, use)
	}
	if err := a.store.DeleteClient(ctx, id, a.cfg.Now()); errors.Is(err, storage.ErrNotFound) {
		return notFound("id", "no client with id %q", id)
	} else if err != nil {
		return err
	}
	a.audit(ctx, actor, "client_deleted", "", id, "")
	return nil
}

// RotateSecret gives a confidential client a new secret; the old one stops
// working at once.
func (a *Admin) RotateSecret(ctx context.Context, actor Actor, id string) (string, error) {
	c, err := a.FindClient(ctx, "id", id)
	if err != nil {
		return "", err
	}
	if c.AuthMethod != "client_secret_basic" && c.AuthMethod != "client_secret_post" {
		return "", conflict("id", "client %q has no secret (auth method %s)", id, c.AuthMethod)
	}
	secret := keyring.RandomToken(32)
	if err := a.store.SetClientSecretHash(ctx, id, a.cfg.Ring.Hasher(keyring.PurposeClientSecret).Sum(secret), a.cfg.Now()); err != nil {
		return "", err
	}
	a.audit(ctx, actor, "client_secret_rotated", "", id, "")
	return secret, nil
}
