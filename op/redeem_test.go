package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
	"github.com/twofold-id/twofold/web"
)

const redeemRedirect = "https://app.example/cb"

// issued is the real store, noting the access tokens it stores; with
// codesDown, its code lookup fails as in a database outage (after the
// client lookup, which zitadel/oidc would report as the client's).
type issued struct {
	*storage.Store
	mu        sync.Mutex
	tokens    []storage.AccessToken
	codesDown atomic.Bool
}

func (s *issued) AuthRequestByCodeHash(ctx context.Context, hash string) (*storage.AuthRequest, error) {
	if s.codesDown.Load() {
		return nil, fmt.Errorf("%w: the test took the database away", storage.ErrUnavailable)
	}
	return s.Store.AuthRequestByCodeHash(ctx, hash)
}

func (s *issued) CreateAccessToken(ctx context.Context, t *storage.AccessToken) error {
	err := s.Store.CreateAccessToken(ctx, t)
	if err == nil {
		s.mu.Lock()
		s.tokens = append(s.tokens, *t)
		s.mu.Unlock()
	}
	return err
}

// redeemEnv is a provider over a migrated SQLite store with three clients
// (public "app" and "other", confidential "secret"), a user and a session.
type redeemEnv struct {
	*backchannelEnv
	p     *Provider
	store *issued
	sess  string
}

func newRedeemEnv(t *testing.T) *redeemEnv {
	t.Helper()
	base := newBackchannelEnv(t)
	ring, err := keyring.New([]byte("test-secret-key-0123456789abcdef-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := i18n.Default().ParsePages(web.FS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	rec := &issued{Store: base.store}
	p, err := New(Options{Issuer: testIssuer, Store: rec, Keys: base.keys, Keyring: ring,
		Lifetimes: Lifetimes{AccessToken: 5 * time.Minute, IDToken: 5 * time.Minute, RefreshToken: time.Hour, AuthCode: time.Minute, Login: 30 * time.Minute},
		LoginURL:  "/login", Now: base.clock.Now, Logger: slog.New(slog.DiscardHandler),
		Pages: pages, PageHeaders: func(h http.Handler) http.Handler { return h }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, now := t.Context(), base.clock.Now()
	for _, c := range []*storage.Client{
		{ID: "app", AuthMethod: "none"},
		{ID: "other", AuthMethod: "none"},
		{ID: "secret", AuthMethod: "client_secret_basic", SecretHash: ring.Hasher(keyring.PurposeClientSecret).Sum("s3cret")},
	} {
		c.RedirectURIs, c.GrantTypes, c.CreatedAt, c.UpdatedAt = storage.StringList{redeemRedirect}, storage.StringList{"authorization_code"}, now, now
		if err := base.store.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := base.store.CreateUser(ctx, &storage.User{ID: "u1", Username: "alice", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	sess := &storage.Session{ID: rand32(), UserID: "u1", AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := base.store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	return &redeemEnv{backchannelEnv: base, p: p, store: rec, sess: sess.ID}
}

// grant is a code issued to a client after a finished sign-in.
type grant struct{ id, code, verifier string }

func (e *redeemEnv) issue(t *testing.T, clientID string) grant {
	t.Helper()
	ctx, now := t.Context(), e.clock.Now()
	g := grant{code: keyring.RandomToken(32), verifier: keyring.RandomToken(32)}
	sum := sha256.Sum256([]byte(g.verifier))
	a := &storage.AuthRequest{ID: keyring.RandomToken(32), ClientID: clientID, RedirectURI: redeemRedirect,
		Scopes: storage.StringList{"openid"}, ResponseType: "code", CodeChallengeMethod: "S256",
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute)}
	if err := e.store.CreateAuthRequest(ctx, a); err != nil {
		t.Fatal(err)
	}
	c := storage.Completion{UserID: "u1", SessionID: e.sess, AuthTime: now, AMR: []string{"pwd"}, ACR: "urn:twofold:acr:pwd"}
	if err := e.store.CompleteAuthRequest(ctx, a.ID, c, now); err != nil {
		t.Fatal(err)
	}
	if err := e.p.storage.SaveAuthCode(ctx, a.ID, g.code); err != nil {
		t.Fatal(err)
	}
	g.id = a.ID
	return g
}

// exchange is one token request: the fields of the form.
type exchange struct{ clientID, redirectURI, code, verifier string }

// direct redeems through RedeemCode and returns the error type ("" for none).
func (e *redeemEnv) direct(t *testing.T, x exchange) string {
	t.Helper()
	err := e.p.RedeemCode(t.Context(), x.clientID, x.redirectURI, x.code, x.verifier)
	if err == nil {
		return ""
	}
	var oe *oidc.Error
	if !errors.As(err, &oe) {
		t.Fatalf("RedeemCode returned %T %v, want an *oidc.Error", err, err)
	}
	return string(oe.ErrorType)
}

// endpoint redeems through the token endpoint's HTTP handler and returns
// the error ("" for a 200).
func (e *redeemEnv) endpoint(t *testing.T, x exchange) string {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {x.clientID}, "redirect_uri": {x.redirectURI},
		"code": {x.code}, "code_verifier": {x.verifier}}
	for k, v := range form {
		if v[0] == "" {
			delete(form, k)
		}
	}
	req := httptest.NewRequest(http.MethodPost, testIssuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.p.ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		return ""
	}
	var body struct{ Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
		t.Fatalf("token endpoint: %d %s", rec.Code, rec.Body)
	}
	return body.Error
}

// TestRedeemCodeAsTheTokenEndpoint runs each exchange both ways, on a
// fresh provider each, and wants the same answer: RedeemCode takes the
// token endpoint's path.
func TestRedeemCodeAsTheTokenEndpoint(t *testing.T) {
	right := func(g grant) exchange { return exchange{"app", redeemRedirect, g.code, g.verifier} }
	cases := []struct {
		name   string
		client string           // the client the code is issued to
		before func(*redeemEnv) // runs before the exchange
		ask    func(grant) exchange
		want   string
	}{
		{name: "a right exchange", client: "app", ask: right},
		{name: "a wrong verifier", client: "app", want: "invalid_grant",
			ask: func(g grant) exchange { x := right(g); x.verifier = keyring.RandomToken(32); return x }},
		{name: "no verifier", client: "app", want: "invalid_request",
			ask: func(g grant) exchange { x := right(g); x.verifier = ""; return x }},
		{name: "a verifier of the wrong syntax", client: "app", want: "invalid_grant",
			ask: func(g grant) exchange { x := right(g); x.verifier = "short"; return x }},
		{name: "another redirect URI", client: "app", want: "invalid_grant",
			ask: func(g grant) exchange { x := right(g); x.redirectURI = "https://app.example/other"; return x }},
		{name: "another client's code", client: "other", want: "invalid_grant", ask: right},
		{name: "a confidential client without its secret", client: "secret", want: "invalid_client",
			ask: func(g grant) exchange { x := right(g); x.clientID = "secret"; return x }},
		{name: "an unknown client", client: "app", want: "invalid_client",
			ask: func(g grant) exchange { x := right(g); x.clientID = "nobody"; return x }},
		{name: "an expired code", client: "app", want: "invalid_grant", ask: right,
			before: func(e *redeemEnv) { e.clock.Advance(time.Minute + time.Second) }},
		{name: "an unknown code", client: "app", want: "invalid_grant",
			ask: func(g grant) exchange { x := right(g); x.code = keyring.RandomToken(32); return x }},
		{name: "no code", client: "app", want: "invalid_request",
			ask: func(g grant) exchange { x := right(g); x.code = ""; return x }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]string{}
			for way, redeem := range map[string]func(*redeemEnv, *testing.T, exchange) string{
				"RedeemCode": (*redeemEnv).direct, "/oauth/token": (*redeemEnv).endpoint,
			} {
				e := newRedeemEnv(t)
				g := e.issue(t, c.client)
				if c.before != nil {
					c.before(e)
				}
				got[way] = redeem(e, t, c.ask(g))
			}
			if got["RedeemCode"] != c.want || got["/oauth/token"] != c.want {
				t.Errorf("RedeemCode = %q, /oauth/token = %q, want %q", got["RedeemCode"], got["/oauth/token"], c.want)
			}
		})
	}
}

// A redeemed code has stored an access token of the grant, linked to the
// session; presented again it is a replay, which revokes that token.
func TestRedeemCodeSpendsTheCodeOnce(t *testing.T) {
	e := newRedeemEnv(t)
	g := e.issue(t, "app")
	x := exchange{"app", redeemRedirect, g.code, g.verifier}
	if got := e.direct(t, x); got != "" {
		t.Fatalf("first redemption: %s", got)
	}
	a, err := e.store.AuthRequest(t.Context(), g.id, e.clock.Now())
	if err != nil || a.RedeemedAt == nil {
		t.Fatalf("the code was not marked redeemed: %+v, %v", a, err)
	}
	if len(e.store.tokens) != 1 {
		t.Fatalf("%d access tokens stored, want 1", len(e.store.tokens))
	}
	tok := e.store.tokens[0]
	if tok.ClientID != "app" || tok.UserID != "u1" || tok.FamilyID != g.id || tok.SessionID != e.sess {
		t.Fatalf("access token %+v: want client app, user u1, family %s, session %s", tok, g.id, e.sess)
	}
	if got := e.direct(t, x); got != "invalid_grant" {
		t.Fatalf("replayed code: %q, want invalid_grant", got)
	}
	if _, err := e.store.ActiveAccessToken(t.Context(), tok.ID, e.clock.Now()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the replay left the grant's access token active (err %v)", err)
	}
	if n := len(e.audit(t, "code_replay")); n != 1 {
		t.Errorf("%d code_replay audit events, want 1", n)
	}
}

// A wrong verifier spends the code: whoever intercepted it cannot try
// again, nor can the right verifier use it afterwards.
func TestRedeemCodeWrongVerifierSpendsTheCode(t *testing.T) {
	e := newRedeemEnv(t)
	g := e.issue(t, "app")
	if got := e.direct(t, exchange{"app", redeemRedirect, g.code, keyring.RandomToken(32)}); got != "invalid_grant" {
		t.Fatalf("wrong verifier: %q", got)
	}
	if got := e.direct(t, exchange{"app", redeemRedirect, g.code, g.verifier}); got != "invalid_grant" {
		t.Fatalf("the right verifier after a wrong one: %q, want invalid_grant", got)
	}
	if len(e.store.tokens) != 0 {
		t.Errorf("%d access tokens stored for a spent code", len(e.store.tokens))
	}
}

// Of many concurrent redemptions of one code, exactly one wins.
func TestRedeemCodeConcurrently(t *testing.T) {
	e := newRedeemEnv(t)
	g := e.issue(t, "app")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e.p.RedeemCode(t.Context(), "app", redeemRedirect, g.code, g.verifier) == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d redemptions won, want exactly 1", n)
	}
}

// A database outage is ours, not the client's: a server_error that says
// so (storage.ErrUnavailable), never the invalid_grant zitadel/oidc makes
// of a failed code lookup (after which a caller would drop the code); the
// endpoint answers 503 temporarily_unavailable. The code still works
// once the database is back.
func TestRedeemCodeOutage(t *testing.T) {
	for name, down := range map[string]func(*redeemEnv){
		"the client lookup fails": func(e *redeemEnv) { e.store.Close() },
		"the code lookup fails":   func(e *redeemEnv) { e.store.codesDown.Store(true) },
	} {
		t.Run(name, func(t *testing.T) {
			e := newRedeemEnv(t)
			g := e.issue(t, "app")
			down(e)
			err := e.p.RedeemCode(t.Context(), "app", redeemRedirect, g.code, g.verifier)
			var oe *oidc.Error
			if !errors.As(err, &oe) || oe.ErrorType != oidc.ServerError || !errors.Is(err, storage.ErrUnavailable) {
				t.Fatalf("RedeemCode in an outage = %v, want server_error wrapping storage.ErrUnavailable", err)
			}
			x := exchange{"app", redeemRedirect, g.code, g.verifier}
			if got := e.endpoint(t, x); got != "temporarily_unavailable" {
				t.Errorf("/oauth/token in the same outage: %q, want temporarily_unavailable", got)
			}
			if e.store.codesDown.Load() {
				e.store.codesDown.Store(false)
				if got := e.direct(t, x); got != "" {
					t.Errorf("the code once the database is back: %q", got)
				}
			}
		})
	}
}
