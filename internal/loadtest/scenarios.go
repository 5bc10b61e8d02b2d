package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/twofold-id/twofold/keyring"
)

// Client is a registered client the driver uses.
type Client struct {
	ID, Secret, RedirectURI string
}

// User is a seeded user with an SMS second factor.
type User struct {
	Username, Password, Phone string
}

// Env is what the scenarios run against: the replicas' URLs (one issuer),
// the seeded clients and users, and where the SMS codes arrive.
type Env struct {
	Targets    []string
	App        Client // confidential authorization-code client
	Machine    Client // client_credentials, opaque access tokens
	MachineJWT Client // client_credentials, JWT access tokens
	Users      []User // at least one per worker
	// LastCode returns the newest code texted to a number.
	LastCode func(phone string) string

	transport http.RoundTripper
	http      *http.Client
}

// op is one measured operation of a worker.
type op func(ctx context.Context) error

// scenario prepares worker w (unmeasured) and returns its operation.
type scenario func(ctx context.Context, e *Env, w int) (op, error)

// Scenarios are the load driver's workloads by name.
var Scenarios = map[string]scenario{
	"discovery":              discovery,
	"jwks":                   jwks,
	"client_credentials":     clientCredentials(func(e *Env) Client { return e.Machine }),
	"client_credentials_jwt": clientCredentials(func(e *Env) Client { return e.MachineJWT }),
	"flow":                   fullFlow,
	"refresh":                refresh,
}

// ScenarioNames lists the scenarios in the order "all" runs them.
func ScenarioNames() []string {
	order := map[string]int{"discovery": 0, "jwks": 1, "client_credentials": 2, "client_credentials_jwt": 3, "refresh": 4, "flow": 5}
	names := make([]string, 0, len(Scenarios))
	for n := range Scenarios {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	return names
}

// rotor hands out the targets in turn, so consecutive requests of one
// worker land on different replicas.
type rotor struct {
	targets []string
	next    int
}

func (r *rotor) pick() string {
	t := r.targets[r.next%len(r.targets)]
	r.next++
	return t
}

func discovery(_ context.Context, e *Env, w int) (op, error) {
	r := &rotor{targets: e.Targets, next: w}
	return func(ctx context.Context) error {
		return get(ctx, e.http, r.pick()+"/.well-known/openid-configuration", nil)
	}, nil
}

func jwks(_ context.Context, e *Env, w int) (op, error) {
	r := &rotor{targets: e.Targets, next: w}
	return func(ctx context.Context) error { return get(ctx, e.http, r.pick()+"/keys", nil) }, nil
}

func clientCredentials(pick func(*Env) Client) scenario {
	return func(_ context.Context, e *Env, w int) (op, error) {
		c := pick(e)
		if c.ID == "" {
			return nil, fmt.Errorf("no client_credentials client was seeded")
		}
		r := &rotor{targets: e.Targets, next: w}
		form := url.Values{"grant_type": {"client_credentials"}}
		return func(ctx context.Context) error {
			_, err := postToken(ctx, e.http, r.pick(), c.ID, c.Secret, form)
			return err
		}, nil
	}
}

// fullFlow is a new browser signing in: authorize, the password page, the
// SMS code (read from the fake Twilio), the callback, the code exchange and
// userinfo.
func fullFlow(_ context.Context, e *Env, w int) (op, error) {
	u := e.Users[w%len(e.Users)]
	r := &rotor{targets: e.Targets, next: w}
	return func(ctx context.Context) error {
		_, err := signIn(ctx, e, r, u)
		return err
	}, nil
}

// refresh rotates a refresh token obtained by one (unmeasured) sign-in.
func refresh(ctx context.Context, e *Env, w int) (op, error) {
	u := e.Users[w%len(e.Users)]
	r := &rotor{targets: e.Targets, next: w}
	tokens, err := signIn(ctx, e, r, u)
	if err != nil {
		return nil, fmt.Errorf("sign-in before refreshing: %w", err)
	}
	rt := tokens.RefreshToken
	if rt == "" {
		return nil, fmt.Errorf("no refresh token issued (offline_access)")
	}
	return func(ctx context.Context) error {
		next, err := postToken(ctx, e.http, r.pick(), e.App.ID, e.App.Secret,
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if err != nil {
			return err
		}
		if next.RefreshToken == "" || next.RefreshToken == rt {
			return fmt.Errorf("refresh token did not rotate")
		}
		rt = next.RefreshToken
		return nil
	}, nil
}

// signIn runs one whole authorization-code flow with PKCE in a new browser.
func signIn(ctx context.Context, e *Env, r *rotor, u User) (*tokenResponse, error) {
	b := newBrowser(e.transport)
	verifier, challenge := pkce()
	state := keyring.RandomToken(8)
	q := url.Values{"client_id": {e.App.ID}, "redirect_uri": {e.App.RedirectURI}, "response_type": {"code"},
		"scope": {"openid profile offline_access"}, "state": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	page, err := b.follow(ctx, r, r.pick()+"/authorize?"+q.Encode(), e.App.RedirectURI)
	if err != nil {
		return nil, err
	}
	id := page.field("authRequestID")
	if id == "" {
		return nil, page.expect("password page", 0)
	}
	page, err = b.submit(ctx, r, "/login/password", url.Values{"authRequestID": {id}, "username": {u.Username}, "password": {u.Password}}, e.App.RedirectURI)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(page.body, `autocomplete="one-time-code"`) {
		return nil, page.expect("code page", 0)
	}
	code := e.LastCode(u.Phone)
	if code == "" {
		return nil, errNoCode
	}
	page, err = b.submit(ctx, r, "/login/code", url.Values{"authRequestID": {page.field("authRequestID")}, "code": {code}}, e.App.RedirectURI)
	if err != nil {
		return nil, err
	}
	cb, err := url.Parse(page.location)
	if err != nil || cb.Query().Get("code") == "" || cb.Query().Get("state") != state {
		return nil, page.expect("redirect to the client with a code", http.StatusFound)
	}
	base := r.pick()
	tokens, err := postToken(ctx, e.http, base, e.App.ID, e.App.Secret, url.Values{"grant_type": {"authorization_code"},
		"code": {cb.Query().Get("code")}, "redirect_uri": {e.App.RedirectURI}, "code_verifier": {verifier}})
	if err != nil {
		return nil, err
	}
	if tokens.IDToken == "" {
		return nil, fmt.Errorf("no ID token")
	}
	return tokens, get(ctx, e.http, r.pick()+"/userinfo", http.Header{"Authorization": {"Bearer " + tokens.AccessToken}})
}

// submit posts a form to the provider and follows its redirects.
func (b *browser) submit(ctx context.Context, r *rotor, path string, form url.Values, clientURI string) (*response, error) {
	resp, err := b.do(ctx, http.MethodPost, r.pick()+path, form, nil)
	if err != nil {
		return nil, err
	}
	return b.chase(ctx, r, resp, clientURI)
}

// follow fetches u and follows redirects inside the provider.
func (b *browser) follow(ctx context.Context, r *rotor, u, clientURI string) (*response, error) {
	resp, err := b.do(ctx, http.MethodGet, u, nil, nil)
	if err != nil {
		return nil, err
	}
	return b.chase(ctx, r, resp, clientURI)
}

// chase follows redirects until a page, or a redirect to the client.
func (b *browser) chase(ctx context.Context, r *rotor, resp *response, clientURI string) (*response, error) {
	for range 10 {
		if resp.location == "" || strings.HasPrefix(resp.location, clientURI) {
			return resp, nil
		}
		next, err := onTarget(r.pick(), resp.location)
		if err != nil {
			return nil, err
		}
		if resp, err = b.do(ctx, http.MethodGet, next, nil, nil); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("too many redirects")
}
