package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/op"
	"github.com/twofold-id/twofold/storage"
)

// logoutReceiver is a relying party's back-channel logout endpoint: it
// verifies each logout token against the provider's JWKS, as an RP would,
// and keeps the claims.
type logoutReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	clientID string // the audience to expect
	tokens   []*oidc.LogoutTokenClaims
	status   int
}

// newLogoutReceiver starts the endpoint; call expect with the client id
// once the client is registered.
func newLogoutReceiver(t *testing.T, s *testkit.Server, status int) *logoutReceiver {
	keys := rp.NewRemoteKeySet(&http.Client{Transport: s.Transport()}, s.URL+"/keys")
	l := &logoutReceiver{status: status}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		clientID := l.clientID
		l.mu.Unlock()
		claims, err := verifyLogoutToken(r.Context(), s, keys, clientID, r.PostFormValue("logout_token"))
		if err != nil {
			t.Errorf("back-channel logout token refused: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		l.mu.Lock()
		l.tokens = append(l.tokens, claims)
		l.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(l.status)
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *logoutReceiver) expect(clientID string) {
	l.mu.Lock()
	l.clientID = clientID
	l.mu.Unlock()
}

// received returns the logout tokens verified so far.
func (l *logoutReceiver) received() []*oidc.LogoutTokenClaims {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.tokens)
}

// verifyLogoutToken checks a logout token as Back-Channel Logout 1.0
// section 2.6 asks of a relying party.
func verifyLogoutToken(ctx context.Context, s *testkit.Server, keys oidc.KeySet, clientID, raw string) (*oidc.LogoutTokenClaims, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return nil, err
	}
	if typ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != "logout+jwt" {
		return nil, fmt.Errorf("typ = %v", typ)
	}
	payload, err := keys.VerifySignature(ctx, jws)
	if err != nil {
		return nil, err
	}
	var claims oidc.LogoutTokenClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	switch {
	case claims.Issuer != s.URL:
		return nil, fmt.Errorf("iss = %q", claims.Issuer)
	case !slices.Equal(claims.Audience, []string{clientID}):
		return nil, fmt.Errorf("aud = %v", claims.Audience)
	case claims.Expiration.AsTime().Before(now) || claims.IssuedAt.AsTime().After(now.Add(time.Second)):
		return nil, fmt.Errorf("iat %v exp %v at %v", claims.IssuedAt, claims.Expiration, now)
	case claims.JWTID == "" || claims.Subject == "" || claims.SessionID == "":
		return nil, fmt.Errorf("jti, sub or sid missing: %+v", claims)
	case claims.Events[op.BackchannelEvent] == nil:
		return nil, fmt.Errorf("events = %v", claims.Events)
	case claims.Claims["nonce"] != nil:
		return nil, fmt.Errorf("a logout token carries a nonce")
	}
	return &claims, nil
}

// deliverUntil runs the back-channel worker, as the server's ticker would,
// until done reports true. The server's own ticker may take a row first,
// so the test waits for the effect, not for a return value.
func deliverUntil(t *testing.T, s *testkit.Server, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not delivered", what)
		}
		if _, _, err := s.App.RunBackchannel(context.Background()); err != nil {
			t.Fatalf("RunBackchannel: %v", err)
		}
		if !done() {
			time.Sleep(20 * time.Millisecond) // a ticker's attempt in flight
		}
	}
}

func TestBackchannelLogout(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		ctx := context.Background()
		userID := s.CreateUser(t, "alice", "alice-password")

		// Discovery says so.
		var disco struct {
			Supported bool `json:"backchannel_logout_supported"`
			Session   bool `json:"backchannel_logout_session_supported"`
		}
		if err := json.Unmarshal([]byte(s.NewBrowser(t).Get("/.well-known/openid-configuration").Body), &disco); err != nil || !disco.Supported || !disco.Session {
			t.Errorf("discovery: %+v, %v", disco, err)
		}

		recv := newLogoutReceiver(t, s, http.StatusOK)
		wiki := s.NewRP(t, testkit.ClientOptions{Name: "Wiki", BackchannelLogoutURI: recv.URL + "/backchannel"})
		recv.expect(wiki.ID)
		mail := s.NewRP(t, testkit.ClientOptions{Name: "Mail", RedirectURIs: []string{"https://mail.example/cb"},
			PostLogoutRedirectURIs: []string{"https://mail.example/bye"}})

		// One browser signs in to both; the ID tokens name the session.
		b := s.NewBrowser(t)
		first := wiki.Login(b, "alice", "alice-password")
		f := mail.Start(b, nil)
		second, err := f.Exchange(f.Code())
		if err != nil {
			t.Fatal(err)
		}
		sid := first.IDTokenClaims.SessionID
		if sid == "" || second.IDTokenClaims.SessionID != sid {
			t.Fatalf("ID token sid = %q and %q, want one session id", sid, second.IDTokenClaims.SessionID)
		}

		refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, wiki.Party, first.RefreshToken, "", "")
		if err != nil || refreshed.IDTokenClaims == nil || refreshed.IDTokenClaims.SessionID != sid {
			t.Fatalf("refreshed ID token sid: %+v, %v; want %q", refreshed, err, sid)
		}

		// end_session answers at once; the token follows from the worker.
		end := b.Get("/end_session?" + url.Values{"id_token_hint": {second.IDToken},
			"post_logout_redirect_uri": {"https://mail.example/bye"}}.Encode())
		if end.Status != http.StatusFound || end.Location != "https://mail.example/bye" {
			t.Fatalf("end_session: %s", end)
		}
		if got := recv.received(); len(got) != 0 {
			t.Fatalf("the RP was called during end_session: %+v", got)
		}
		deliverUntil(t, s, "end_session", func() bool { return len(recv.received()) == 1 })
		got := recv.received()[0]
		if got.Subject != userID || got.SessionID != sid {
			t.Errorf("logout token sub %q sid %q, want %q %q", got.Subject, got.SessionID, userID, sid)
		}

		// An admin revoking the user reaches a new session too.
		again := wiki.Login(s.NewBrowser(t), "alice", "alice-password")
		if again.IDTokenClaims.SessionID == sid {
			t.Fatal("a new sign-in reused the ended session's sid")
		}
		if err := s.App.Store.RevokeUser(ctx, userID, s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		deliverUntil(t, s, "RevokeUser", func() bool { return len(recv.received()) == 2 })
		if got := recv.received()[1]; got.SessionID != again.IDTokenClaims.SessionID || got.Subject != userID {
			t.Errorf("logout token after RevokeUser: sid %q sub %q, want %q", got.SessionID, got.Subject, again.IDTokenClaims.SessionID)
		}
		if _, _, err := s.App.RunBackchannel(ctx); err != nil || len(recv.received()) != 2 {
			t.Errorf("a token was sent twice: %d received, %v", len(recv.received()), err)
		}
		delivered, _ := s.App.Store.AuditEvents(ctx, storage.AuditFilter{ClientID: wiki.ID, Type: "backchannel_logout_delivered"})
		if len(delivered) != 2 {
			t.Errorf("%d delivered audit events, want 2", len(delivered))
		}
	})
}

func TestBackchannelLogoutToAClientThatIsDown(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s := testkit.NewServer(t, o)
		ctx := context.Background()
		s.CreateUser(t, "alice", "alice-password")
		recv := newLogoutReceiver(t, s, http.StatusInternalServerError)
		app := s.NewRP(t, testkit.ClientOptions{Name: "Down", RedirectURIs: []string{"https://down.example/cb"},
			PostLogoutRedirectURIs: []string{"https://down.example/bye"}, BackchannelLogoutURI: recv.URL})
		recv.expect(app.ID)

		b := s.NewBrowser(t)
		tokens := app.Login(b, "alice", "alice-password")
		start := time.Now()
		end := b.Get("/end_session?" + url.Values{"id_token_hint": {tokens.IDToken},
			"post_logout_redirect_uri": {"https://down.example/bye"}}.Encode())
		if end.Status != http.StatusFound || time.Since(start) > 2*time.Second {
			t.Fatalf("end_session took %v: %s", time.Since(start), end)
		}

		failures := func() []storage.AuditEvent {
			list, err := s.App.Store.AuditEvents(ctx, storage.AuditFilter{ClientID: app.ID, Type: "backchannel_logout_failed"})
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		for attempt := 1; attempt <= op.BackchannelMaxAttempts; attempt++ {
			deliverUntil(t, s, "attempt", func() bool { return len(failures()) == attempt })
			s.Clock.Advance(op.BackchannelRetryAfter(attempt))
		}
		list := failures()
		if last := list[0]; last.Outcome != "gave up" || last.Detail != "attempt 6 of 6: HTTP 500" {
			t.Errorf("last failure event = %+v", last)
		}
		if n := len(recv.received()); n != op.BackchannelMaxAttempts {
			t.Errorf("the RP got %d attempts, want %d", n, op.BackchannelMaxAttempts)
		}
		s.Clock.Advance(24 * time.Hour)
		if _, _, err := s.App.RunBackchannel(ctx); err != nil || len(recv.received()) != op.BackchannelMaxAttempts {
			t.Errorf("a given-up delivery was sent again (%d attempts, %v)", len(recv.received()), err)
		}
	})
}
