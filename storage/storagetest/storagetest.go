// Package storagetest is the one conformance suite for storage.Store: the
// same tests run on SQLite and on PostgreSQL, so that both dialects keep the
// promises the sign-in flow and the token endpoint rely on (single-use
// transitions with exactly one winner, expiry by instant, errors callers can
// match with errors.Is). It follows dex's storage/conformance.
package storagetest

import (
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// Run runs the whole suite. open must return a store on an empty database
// (fresh for every call) and arrange its Close with t.Cleanup; Run migrates
// it, except in the subtest that checks migrations themselves.
func Run(t *testing.T, open func(t *testing.T) *storage.Store) {
	t.Run("Migrations", func(t *testing.T) { testMigrations(t, open(t)) })
	tests := []struct {
		name string
		fn   func(t *testing.T, s *storage.Store)
	}{
		{"Clients", testClients},
		{"StringList", testStringList},
		{"Users", testUsers},
		{"AuthRequests", testAuthRequests},
		{"AuthRequestCodes", testAuthRequestCodes},
		{"AuthRequestTimes", testAuthRequestTimes},
		{"TimeZones", testTimeZones},
		{"AccessTokens", testAccessTokens},
		{"RefreshTokens", testRefreshTokens},
		{"RevokeFamily", testRevokeFamily},
		{"Sessions", testSessions},
		{"RevokeUser", testRevokeUser},
		{"SigningKeys", testSigningKeys},
		{"Audit", testAudit},
		{"Purge", testPurge},
		{"ConcurrentRedeemAuthCode", testConcurrentRedeem},
		{"ConcurrentRotateRefreshToken", testConcurrentRotate},
		{"ConcurrentRotateRefreshTokenSameSuccessor", testConcurrentRotateSameSuccessor},
		{"ConcurrentCompleteAuthRequest", testConcurrentComplete},
		{"ConcurrentBindAuthRequest", testConcurrentBind},
		{"AbuseCounters", testCounters},
		{"AccountGuards", testAccountGuards},
		{"ConcurrentCounterHits", testConcurrentCounterHits},
		{"ConcurrentAccountFailures", testConcurrentAccountFailures},
		{"ConcurrentClaimAccountAttempt", testConcurrentClaimAccountAttempt},
		{"LogoutOutbox", testLogoutOutbox},
		{"LogoutDeliveryLifecycle", testLogoutDeliveryLifecycle},
		{"ConcurrentClaimLogoutDelivery", testConcurrentClaimLogout},
		{"ConcurrentRevokeSessionQueuesOnce", testConcurrentRevokeSession},
		{"PurgeLogoutDeliveries", testPurgeLogoutDeliveries},
		{"LiveSessionBySID", testLiveSessionBySID},
		{"Unavailable", testUnavailable},
	}
	tests = append(append(tests, factorTests...), policyTests...)
	tests = append(tests, adminTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if _, err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			tc.fn(t, s)
		})
	}
}

func testMigrations(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	before, err := s.Migrations(ctx)
	if err != nil {
		t.Fatalf("Migrations on an empty database: %v", err)
	}
	if len(before) == 0 {
		t.Fatal("Migrations lists no migration")
	}
	var want []int
	for _, m := range before {
		if m.Applied {
			t.Errorf("migration %d applied on an empty database", m.Version)
		}
		want = append(want, m.Version)
	}
	if n, err := s.Pending(ctx); err != nil || n != len(before) {
		t.Fatalf("Pending before Migrate = %d, %v; want %d", n, err, len(before))
	}
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if !slices.Equal(applied, want) {
		t.Errorf("Migrate applied %v, want %v", applied, want)
	}
	again, err := s.Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
	}
	if n, err := s.Pending(ctx); err != nil || n != 0 {
		t.Errorf("Pending after Migrate = %d, %v; want 0", n, err)
	}
	after, err := s.Migrations(ctx)
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	for i, m := range after {
		if !m.Applied || m.Version != want[i] || m.Name == "" {
			t.Errorf("Migrations()[%d] = %+v, want version %d applied with a name", i, m, want[i])
		}
	}
}

// Helpers shared by the suite.

func newID() string { return rand.Text() }

// now is the suite's clock: UTC with nanoseconds, so that precision loss
// shows.
func now() time.Time { return time.Now().UTC() }

func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// sameTime checks that a time read back is the instant written, to the
// precision the database keeps: SQLite stores text with nanoseconds,
// PostgreSQL timestamptz keeps microseconds.
func sameTime(t *testing.T, s *storage.Store, what string, got, want time.Time) {
	t.Helper()
	precision := time.Nanosecond
	if s.IsPostgres() {
		precision = time.Microsecond
	}
	if d := want.Sub(got); d < 0 || d >= precision {
		t.Errorf("%s = %v, want %v (to %v)", what, got, want, precision)
	}
}

func sameTimePtr(t *testing.T, s *storage.Store, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", what, want)
		return
	}
	sameTime(t, s, what, *got, want)
}

func newAuthRequest(at time.Time) *storage.AuthRequest {
	return &storage.AuthRequest{
		ID:           newID(),
		ClientID:     "app",
		RedirectURI:  "https://app.example/callback",
		ResponseType: "code",
		Scopes:       storage.StringList{"openid", "profile"},
		CreatedAt:    at,
		ExpiresAt:    at.Add(30 * time.Minute),
	}
}

// doneRequest stores an auth request and completes it, ready for a code.
func doneRequest(t *testing.T, s *storage.Store, at time.Time) *storage.AuthRequest {
	t.Helper()
	ctx := t.Context()
	a := newAuthRequest(at)
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
	c := storage.Completion{UserID: "u1", SessionID: "s1", AuthTime: at, AMR: []string{"pwd", "otp"}, ACR: "2fa"}
	ok(t, "CompleteAuthRequest", s.CompleteAuthRequest(ctx, a.ID, c, at))
	return a
}

func newAccessToken(at time.Time, clientID, family, session string) *storage.AccessToken {
	return &storage.AccessToken{
		ID: newID(), ClientID: clientID, Subject: "u1", UserID: "u1",
		Scopes: storage.StringList{"openid"}, Audience: storage.StringList{clientID},
		FamilyID: family, SessionID: session, CreatedAt: at, ExpiresAt: at.Add(5 * time.Minute),
	}
}

func newRefreshToken(at time.Time, clientID, family, session string) *storage.RefreshToken {
	return &storage.RefreshToken{
		ID: newID(), TokenHash: newID(), FamilyID: family, ClientID: clientID, UserID: "u1",
		Scopes: storage.StringList{"openid", "offline_access"}, Audience: storage.StringList{clientID},
		AMR: storage.StringList{"pwd"}, ACR: "1", AuthTime: at, SessionID: session,
		CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour),
	}
}

// accessActive reports whether an access token is still usable at.
func accessActive(t *testing.T, s *storage.Store, id string, at time.Time) bool {
	t.Helper()
	_, err := s.ActiveAccessToken(t.Context(), id, at)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("ActiveAccessToken: %v", err)
	}
	return err == nil
}

// refreshRevoked reports whether a refresh token carries a revocation.
func refreshRevoked(t *testing.T, s *storage.Store, hash string) bool {
	t.Helper()
	r, err := s.RefreshTokenByHash(t.Context(), hash)
	ok(t, "RefreshTokenByHash", err)
	return r.RevokedAt != nil
}
