package op

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

const testIssuer = "https://id.example"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// backchannelEnv is a migrated SQLite store with a signing key.
type backchannelEnv struct {
	store *storage.Store
	keys  *Keys
	clock *clock
}

func newBackchannelEnv(t *testing.T) *backchannelEnv {
	t.Helper()
	store, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "t.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New([]byte("test-secret-key-0123456789abcdef-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().UTC()}
	keys := NewKeys(store, ring, KeyOptions{Algorithm: "RS256", Retention: time.Hour}, c.Now)
	if err := keys.EnsureKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &backchannelEnv{store: store, keys: keys, clock: c}
}

func (e *backchannelEnv) worker(t *testing.T) *Backchannel {
	return NewBackchannel(e.store, e.keys, testIssuer, nil, e.clock.Now, slog.New(slog.DiscardHandler))
}

// endSession registers the client (once) and ends a new session of user
// signed in to it, which queues one delivery.
func (e *backchannelEnv) endSession(t *testing.T, clientID, uri, user string) string {
	t.Helper()
	ctx := t.Context()
	if _, err := e.store.Client(ctx, clientID); err != nil {
		c := &storage.Client{ID: clientID, AuthMethod: "none", BackchannelLogoutURI: uri}
		if err := e.store.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	now := e.clock.Now()
	sess := &storage.Session{ID: rand32(), UserID: user, AuthTime: now, Clients: storage.StringList{clientID},
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RevokeSession(ctx, sess.ID, now); err != nil {
		t.Fatal(err)
	}
	return sess.SID // the public sid the logout token carries
}

func rand32() string { return keyring.RandomToken(24) }

func (e *backchannelEnv) audit(t *testing.T, typ string) []storage.AuditEvent {
	t.Helper()
	list, err := e.store.AuditEvents(t.Context(), storage.AuditFilter{Type: typ, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// verifyLogoutToken checks the signature against the provider's JWKS and
// the header, and returns the claims.
func verifyLogoutToken(t *testing.T, keys *Keys, token string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("parse logout token: %v", err)
	}
	h := jws.Signatures[0].Protected
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != "logout+jwt" {
		t.Errorf("typ = %v, want logout+jwt", typ)
	}
	active, err := keys.SigningKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if h.KeyID != active.ID() {
		t.Errorf("kid = %q, want the active key %q", h.KeyID, active.ID())
	}
	raw, err := keys.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	found := set.Key(h.KeyID)
	if len(found) != 1 {
		t.Fatalf("kid %q is not in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(found[0])
	if err != nil {
		t.Fatalf("signature does not verify with the JWKS: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestLogoutTokenClaims(t *testing.T) {
	e := newBackchannelEnv(t)
	token, err := e.worker(t).LogoutToken(t.Context(), &storage.Client{ID: "wiki"}, "user-1", "session-1")
	if err != nil {
		t.Fatal(err)
	}
	claims := verifyLogoutToken(t, e.keys, token)
	iat := int64(claims["iat"].(float64))
	if iat != e.clock.Now().Unix() || int64(claims["exp"].(float64)) != iat+120 {
		t.Errorf("iat, exp = %v, %v; want now and now+2m", claims["iat"], claims["exp"])
	}
	want := map[string]any{"iss": testIssuer, "sub": "user-1", "sid": "session-1"}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("%s = %v, want %v", k, claims[k], v)
		}
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != "wiki" {
		t.Errorf("aud = %v, want [wiki]", claims["aud"])
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Errorf("jti = %v, want a random id", claims["jti"])
	}
	events, _ := claims["events"].(map[string]any)
	if ev, ok := events[BackchannelEvent].(map[string]any); !ok || len(ev) != 0 || len(events) != 1 {
		t.Errorf("events = %v, want {%q: {}}", claims["events"], BackchannelEvent)
	}
	if _, ok := claims["nonce"]; ok {
		t.Error("a logout token must not carry a nonce")
	}
	other, _ := e.worker(t).LogoutToken(t.Context(), &storage.Client{ID: "wiki"}, "user-1", "session-1")
	if verifyLogoutToken(t, e.keys, other)["jti"] == claims["jti"] {
		t.Error("two logout tokens share a jti")
	}
}

// A client that verifies ES256 gets its logout tokens signed ES256, like
// its ID tokens.
func TestLogoutTokenFollowsClientAlgorithm(t *testing.T) {
	e := newBackchannelEnv(t)
	token, err := e.worker(t).LogoutToken(t.Context(), &storage.Client{ID: "fast", IDTokenSignedResponseAlg: "ES256"}, "user-1", "session-1")
	if err != nil {
		t.Fatal(err)
	}
	if alg := verify(t, e.keys, token); alg != "ES256" {
		t.Fatalf("logout token for an ES256 client verifies as %q, want ES256", alg)
	}
}

// rpServer counts POSTs and answers with status.
type rpServer struct {
	*httptest.Server
	calls  atomic.Int64
	status atomic.Int64
	mu     sync.Mutex
	tokens []string
}

func newRPServer(t *testing.T, status int) *rpServer {
	rp := &rpServer{}
	rp.status.Store(int64(status))
	rp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.calls.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("back-channel request: %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		rp.mu.Lock()
		rp.tokens = append(rp.tokens, r.PostFormValue("logout_token"))
		rp.mu.Unlock()
		if s := int(rp.status.Load()); s == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", s)
		} else {
			w.WriteHeader(s)
		}
	}))
	t.Cleanup(rp.Close)
	return rp
}

func TestRunOnceDeliversEachRowOnceAcrossReplicas(t *testing.T) {
	e := newBackchannelEnv(t)
	rp := newRPServer(t, http.StatusOK)
	const n = 30
	sids := map[string]bool{}
	for range n {
		sids[e.endSession(t, "wiki", rp.URL, "u1")] = true
	}
	replicas := []*Backchannel{e.worker(t), e.worker(t), e.worker(t)}
	var (
		wg    sync.WaitGroup
		total atomic.Int64
	)
	for _, b := range replicas {
		wg.Go(func() {
			delivered, failed, err := b.RunOnce(context.Background())
			if err != nil || failed != 0 {
				t.Errorf("RunOnce = %d, %d, %v", delivered, failed, err)
			}
			total.Add(int64(delivered))
		})
	}
	wg.Wait()
	if rp.calls.Load() != n || total.Load() != n {
		t.Fatalf("the RP got %d requests and the replicas report %d deliveries, want %d each", rp.calls.Load(), total.Load(), n)
	}
	for _, tok := range rp.tokens {
		c := verifyLogoutToken(t, e.keys, tok)
		if !sids[c["sid"].(string)] || c["sub"] != "u1" {
			t.Errorf("token for sid %v sub %v", c["sid"], c["sub"])
		}
		delete(sids, c["sid"].(string))
	}
	if len(sids) != 0 {
		t.Errorf("sessions never notified: %v", sids)
	}
	if d, f, err := e.worker(t).RunOnce(t.Context()); d+f != 0 || err != nil {
		t.Errorf("a second run sent again: %d, %d, %v", d, f, err)
	}
	if got := len(e.audit(t, "backchannel_logout_delivered")); got != n {
		t.Errorf("%d delivered audit events, want %d", got, n)
	}
}

func TestRunOnceBacksOffAndGivesUp(t *testing.T) {
	e := newBackchannelEnv(t)
	rp := newRPServer(t, http.StatusInternalServerError)
	e.endSession(t, "wiki", rp.URL, "u1")
	b := e.worker(t)
	run := func(wantFailed int) {
		t.Helper()
		d, f, err := b.RunOnce(t.Context())
		if err != nil || d != 0 || f != wantFailed {
			t.Fatalf("RunOnce at +%v = %d delivered, %d failed, %v; want %d failed", e.clock.Now(), d, f, err, wantFailed)
		}
	}
	waits := []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour}
	run(1)
	for i, wait := range waits {
		e.clock.Advance(wait - time.Second)
		run(0) // not due yet
		e.clock.Advance(time.Second)
		run(1)
		if got := rp.calls.Load(); got != int64(i+2) {
			t.Fatalf("after %d attempts the RP saw %d requests", i+2, got)
		}
	}
	e.clock.Advance(24 * time.Hour)
	run(0) // given up: never sent again
	if rp.calls.Load() != BackchannelMaxAttempts {
		t.Errorf("the RP saw %d requests, want %d", rp.calls.Load(), BackchannelMaxAttempts)
	}
	list, err := e.store.LogoutDeliveries(t.Context(), "u1")
	if err != nil || len(list) != 1 {
		t.Fatalf("LogoutDeliveries = %v, %v", list, err)
	}
	if d := list[0]; d.FailedAt == nil || d.DeliveredAt != nil || d.Attempts != BackchannelMaxAttempts || d.LastError != "HTTP 500" {
		t.Errorf("delivery = %+v, want failed after %d attempts with HTTP 500", d, BackchannelMaxAttempts)
	}
	events := e.audit(t, "backchannel_logout_failed")
	if len(events) != BackchannelMaxAttempts {
		t.Fatalf("%d failure audit events, want one per attempt (%d)", len(events), BackchannelMaxAttempts)
	}
	last := events[0] // newest first
	if last.Outcome != "gave up" || last.ClientID != "wiki" || last.UserID != "u1" || last.Detail != "attempt 6 of 6: HTTP 500" {
		t.Errorf("last failure event = %+v", last)
	}
	if events[1].Outcome != "retrying" {
		t.Errorf("earlier failure event = %+v, want outcome retrying", events[1])
	}
}

func TestRunOnceStatuses(t *testing.T) {
	tests := []struct {
		status    int
		delivered bool
	}{
		{http.StatusOK, true},
		{http.StatusNoContent, true},
		{http.StatusFound, false}, // redirects are not followed
		{http.StatusBadRequest, false},
		{http.StatusServiceUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			e := newBackchannelEnv(t)
			rp := newRPServer(t, tt.status)
			e.endSession(t, "wiki", rp.URL, "u1")
			d, f, err := e.worker(t).RunOnce(t.Context())
			if err != nil || (d == 1) != tt.delivered || d+f != 1 || rp.calls.Load() != 1 {
				t.Errorf("RunOnce = %d, %d, %v with %d calls; want delivered=%v", d, f, err, rp.calls.Load(), tt.delivered)
			}
		})
	}
}

func TestRunOnceUnreachableAndRemovedClients(t *testing.T) {
	e := newBackchannelEnv(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	e.endSession(t, "gone", dead.URL, "u1")
	e.endSession(t, "deleted", "https://deleted.example/logout", "u1")
	if err := e.store.DeleteClient(t.Context(), "deleted", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	d, f, err := e.worker(t).RunOnce(t.Context())
	if err != nil || d != 0 || f != 2 {
		t.Fatalf("RunOnce = %d, %d, %v; want 2 failed attempts", d, f, err)
	}
	list, _ := e.store.LogoutDeliveries(t.Context(), "u1")
	for _, x := range list {
		if x.LastError == "" || x.FailedAt != nil {
			t.Errorf("delivery %+v: want an error recorded and a retry pending", x)
		}
	}
}

// A replica that dies after claiming the last attempt leaves the row
// claimed; the next run gives it up instead of sending a seventh time.
func TestInterruptedLastAttemptIsGivenUp(t *testing.T) {
	e := newBackchannelEnv(t)
	rp := newRPServer(t, http.StatusOK)
	e.endSession(t, "wiki", rp.URL, "u1")
	due, _ := e.store.DueLogoutDeliveries(t.Context(), e.clock.Now(), 10)
	for i := range BackchannelMaxAttempts {
		now := e.clock.Now()
		if err := e.store.ClaimLogoutDelivery(t.Context(), due[0].ID, i, now, now.Add(BackchannelRetryAfter(i+1))); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(BackchannelRetryAfter(i + 1))
	}
	d, f, err := e.worker(t).RunOnce(t.Context())
	if err != nil || d != 0 || f != 1 || rp.calls.Load() != 0 {
		t.Fatalf("RunOnce = %d, %d, %v with %d calls; want 1 failed and nothing sent", d, f, err, rp.calls.Load())
	}
	list, _ := e.store.LogoutDeliveries(t.Context(), "u1")
	if list[0].FailedAt == nil {
		t.Errorf("delivery = %+v, want given up", list[0])
	}
}
