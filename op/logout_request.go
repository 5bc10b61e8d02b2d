package op

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/storage"
)

// Checking an end_session request (see logout.go): the hint, the client it
// or client_id names, and the post-logout URI registered for that client.

// logoutParams are the end_session parameters the confirmation page
// carries back, to be checked again.
var logoutParams = []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state"}

// Bounds of what a logout request may carry.
const (
	maxHintBytes  = 16 << 10
	maxStateBytes = 2048
)

// Problems with a logout request, told to the person in the browser.
const (
	problemHint     = "logout.problem.hint"
	problemMismatch = "logout.problem.mismatch"
	problemClient   = "logout.problem.client"
	problemNoClient = "logout.problem.no_client"
	problemURI      = "logout.problem.uri"
	problemState    = "logout.problem.state"
)

// logoutRequest is an end_session request once checked.
type logoutRequest struct {
	form     url.Values          // the parameters the confirmation page carries back
	hint     *oidc.IDTokenClaims // a valid id_token_hint (expired or not), or nil
	client   *storage.Client     // the client the hint or client_id names, or nil
	redirect string              // the registered post-logout URI with state, or ""
	problem  string              // the first thing wrong with the request; "" when nothing is
}

func (l *logoutRequest) fail(problem string) {
	if l.problem == "" {
		l.problem = problem
	}
}

func (l *logoutRequest) clientID() string {
	if l.client == nil {
		return ""
	}
	return l.client.ID
}

// checkLogout checks an end_session request; the error is an internal
// failure, anything wrong with the request is its problem.
func (p *Provider) checkLogout(ctx context.Context, form url.Values) (*logoutRequest, error) {
	l := &logoutRequest{form: url.Values{}}
	for _, k := range logoutParams {
		if v := form.Get(k); v != "" {
			l.form.Set(k, v)
		}
	}
	clientID := form.Get("client_id")
	if raw := form.Get("id_token_hint"); raw != "" {
		claims := p.verifyHint(ctx, raw)
		switch {
		case claims == nil:
			l.fail(problemHint)
		case clientID != "" && clientID != claims.AuthorizedParty:
			l.fail(problemMismatch)
			clientID = ""
		default:
			l.hint, clientID = claims, claims.AuthorizedParty
		}
	}
	if clientID != "" {
		c, err := p.opts.Store.Client(ctx, clientID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			l.hint = nil // a token of a client since deleted proves nothing
			l.fail(problemClient)
		case err != nil:
			return nil, err
		default:
			l.client = c
		}
	}
	state := form.Get("state")
	if len(state) > maxStateBytes {
		l.fail(problemState)
		state = ""
	}
	if uri := form.Get("post_logout_redirect_uri"); uri != "" {
		registered, ok := "", false
		if l.client != nil {
			registered, ok = postLogoutURI(l.client, uri)
		}
		switch {
		case l.client == nil:
			l.fail(problemNoClient)
		case !ok:
			l.fail(problemURI)
		default:
			l.redirect = withState(registered, state)
		}
	}
	return l, nil
}

// verifyHint returns the claims of an ID token this provider issued to a
// client (expired or not), or nil. An ID token names its client in azp;
// access tokens and logout tokens, signed by the same keys, do not.
func (p *Provider) verifyHint(ctx context.Context, raw string) *oidc.IDTokenClaims {
	if len(raw) > maxHintBytes {
		return nil
	}
	verifier := zop.NewIDTokenHintVerifier(p.opts.Issuer, &zop.OpenIDKeySet{Storage: p.storage})
	claims, err := zop.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, raw, verifier)
	if err != nil && !errors.As(err, &zop.IDTokenHintExpiredError{}) {
		return nil
	}
	if claims == nil || claims.Subject == "" || claims.AuthorizedParty == "" || !slices.Contains(claims.Audience, claims.AuthorizedParty) {
		return nil
	}
	return claims
}

// postLogoutURI returns the registered post-logout URI that uri names:
// the same string, a native app's loopback address on any port (as
// zitadel/oidc allows, RFC 8252 §7.3), or the same URI but for the "/" of
// an empty path, which RFC 3986 §6.2.3 makes equivalent
// (express-openid-connect sends https://app.example for a registered
// https://app.example/).
func postLogoutURI(c *storage.Client, uri string) (string, bool) {
	if zop.ValidateEndSessionPostLogoutRedirectURI(uri, &client{rec: c}) == nil {
		return uri, true
	}
	want := withRootPath(uri)
	for _, reg := range c.PostLogoutRedirectURIs {
		if withRootPath(reg) == want {
			return reg, true
		}
	}
	return "", false
}

// withRootPath gives an absolute URI with an empty path the path "/"
// (https://app.example?x → https://app.example/?x) and leaves every other
// byte, and every other URI, as it is.
func withRootPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.Opaque != "" {
		return raw
	}
	start := strings.Index(raw, "//") + 2
	end := strings.IndexAny(raw[start:], "?#")
	if end < 0 {
		return raw + "/"
	}
	return raw[:start+end] + "/" + raw[start+end:]
}

// withState adds the request's state to the post-logout URI.
func withState(uri, state string) string {
	if state == "" {
		return uri
	}
	u, err := url.Parse(uri)
	if err != nil {
		return uri // registered URIs parse; this is not reached
	}
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}
