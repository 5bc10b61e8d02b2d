package admin

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// ClientSpec is what a new client is made from, as the API's JSON names
// it; NewClientRecord fills in what is left out.
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

// Clients lists every client.
func (a *Admin) Clients(ctx context.Context) ([]storage.Client, error) { return a.store.Clients(ctx) }

// CreateClient validates and registers a client and returns it with its
// secret (empty for public clients), shown this once.
func (a *Admin) CreateClient(ctx context.Context, actor Actor, s ClientSpec) (*storage.Client, string, error) {
	rec, secret, err := NewClientRecord(s, a.cfg.Ring, a.cfg.Now())
	if err != nil {
		return nil, "", err
	}
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
	var pr problems
	p.apply(&s, &pr)
	if err := pr.err(); err != nil {
		return nil, err
	}
	s = s.withDefaults()
	if err := s.check(); err != nil {
		return nil, err
	}
	c.Name, c.RedirectURIs, c.PostLogoutRedirectURIs = s.Name, s.RedirectURIs, s.PostLogoutRedirectURIs
	c.GrantTypes, c.AccessTokenFormat, c.Scopes, c.UpdatedAt = s.GrantTypes, s.AccessTokenFormat, s.Scopes, a.cfg.Now()
	c.BackchannelLogoutURI, c.IDTokenSignedResponseAlg = s.BackchannelLogoutURI, s.IDTokenSignedResponseAlg
	if err := a.store.UpdateClient(ctx, c); err != nil {
		return nil, err
	}
	a.audit(ctx, actor, "client_updated", "", c.ID, "fields="+strings.Join(p.fields(), ","))
	return c, nil
}

// apply overlays the patch on s; what cannot be defaulted (an empty
// display name, grant list or token format) is a problem here, before the
// client rules run.
func (p ClientPatch) apply(s *ClientSpec, pr *problems) {
	set := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = *src
		}
	}
	if p.Name != nil {
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
		if s.AccessTokenFormat = *p.AccessTokenFormat; s.AccessTokenFormat == "" {
			pr.add("access_token_format", "must be opaque or jwt")
		}
	}
	if p.IDTokenSignedResponseAlg != nil {
		s.IDTokenSignedResponseAlg = *p.IDTokenSignedResponseAlg // empty: back to keys.algorithm
	}
	if p.GrantTypes != nil && len(*p.GrantTypes) == 0 {
		pr.add("grant_types", "name at least one grant type")
	}
}

// fields names the settings a patch changes, for the audit event.
func (p ClientPatch) fields() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"name", p.Name != nil}, {"redirect_uris", p.RedirectURIs != nil}, {"post_logout_redirect_uris", p.PostLogoutRedirectURIs != nil},
		{"grant_types", p.GrantTypes != nil}, {"access_token_format", p.AccessTokenFormat != nil},
		{"id_token_signed_response_alg", p.IDTokenSignedResponseAlg != nil},
		{"backchannel_logout_uri", p.BackchannelLogoutURI != nil}, {"scopes", p.Scopes != nil}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// DeleteClient removes a client and revokes its tokens. Built-in clients
// are refused with a conflict.
func (a *Admin) DeleteClient(ctx context.Context, actor Actor, id string) error {
	if use, ok := a.cfg.BuiltInClients[id]; ok {
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
	if !hasSecret(c.AuthMethod) {
		return "", conflict("id", "client %q has no secret (auth method %s)", id, c.AuthMethod)
	}
	secret := keyring.RandomToken(32)
	if err := a.store.SetClientSecretHash(ctx, id, a.cfg.Ring.Hasher(keyring.PurposeClientSecret).Sum(secret), a.cfg.Now()); err != nil {
		return "", err
	}
	a.audit(ctx, actor, "client_secret_rotated", "", id, "")
	return secret, nil
}
