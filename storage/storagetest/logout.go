package storagetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// logoutFixture registers two clients with a back-channel logout URI and
// one without, and returns a factory of live sessions signed in to them.
func logoutFixture(t *testing.T, s *storage.Store, at time.Time) func(user string, clients ...string) *storage.Session {
	t.Helper()
	for _, c := range []storage.Client{
		{ID: "bc1", AuthMethod: "none", BackchannelLogoutURI: "https://bc1.example/logout"},
		{ID: "bc2", AuthMethod: "none", BackchannelLogoutURI: "https://bc2.example/logout"},
		{ID: "plain", AuthMethod: "none"},
	} {
		ok(t, "CreateClient", s.CreateClient(t.Context(), &c))
	}
	return func(user string, clients ...string) *storage.Session {
		t.Helper()
		sess := &storage.Session{ID: newID(), UserID: user, AuthTime: at, Clients: clients,
			CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour)}
		sess.SID = sess.ID // the suite compares deliveries by session id
		ok(t, "CreateSession", s.CreateSession(t.Context(), sess))
		return sess
	}
}

// deliveryKeys lists "client/session" of a user's queued deliveries, sorted.
func deliveryKeys(t *testing.T, s *storage.Store, user string) []string {
	t.Helper()
	list, err := s.LogoutDeliveries(t.Context(), user)
	ok(t, "LogoutDeliveries", err)
	var out []string
	for _, d := range list {
		out = append(out, d.ClientID+"/"+d.SessionID)
	}
	slices.Sort(out)
	return out
}

// testLogoutOutbox checks that ending a session queues one delivery per
// client with a back-channel URI, once, and nothing for expired sessions or
// the global mark.
func testLogoutOutbox(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	session := logoutFixture(t, s, at)

	s1 := session("u1", "bc1", "plain")
	ok(t, "RevokeSession", s.RevokeSession(ctx, s1.ID, at))
	ok(t, "RevokeSession again", s.RevokeSession(ctx, s1.ID, at))
	if got, want := deliveryKeys(t, s, "u1"), []string{"bc1/" + s1.ID}; !slices.Equal(got, want) {
		t.Fatalf("after RevokeSession: deliveries %v, want %v", got, want)
	}
	list, err := s.LogoutDeliveries(ctx, "u1")
	ok(t, "LogoutDeliveries", err)
	d := list[0]
	if d.UserID != "u1" || d.Attempts != 0 || d.DeliveredAt != nil || d.FailedAt != nil || d.ID == "" {
		t.Errorf("queued delivery = %+v", d)
	}
	sameTime(t, s, "NextAttemptAt", d.NextAttemptAt, at)

	s2 := session("u1", "bc1", "bc2", "plain")
	// A session that expired before the revocation needs no logout.
	expired := &storage.Session{ID: newID(), UserID: "u1", AuthTime: at, Clients: storage.StringList{"bc1"},
		CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(30 * time.Second)}
	expired.SID = expired.ID // the suite compares deliveries by session id
	ok(t, "CreateSession", s.CreateSession(ctx, expired))
	other := session("u2", "bc1")
	later := at.Add(time.Minute)
	ok(t, "RevokeUser", s.RevokeUser(ctx, "u1", later))
	want := []string{"bc1/" + s1.ID, "bc1/" + s2.ID, "bc2/" + s2.ID}
	slices.Sort(want)
	if got := deliveryKeys(t, s, "u1"); !slices.Equal(got, want) {
		t.Fatalf("after RevokeUser: deliveries %v, want %v", got, want)
	}
	if got, err := s.Session(ctx, expired.ID); err != nil || got.RevokedAt == nil {
		t.Errorf("RevokeUser left the expired session unmarked: %+v, %v", got, err)
	}
	ok(t, "RevokeUser again", s.RevokeUser(ctx, "u1", later))
	if got := deliveryKeys(t, s, "u1"); len(got) != len(want) {
		t.Errorf("a second RevokeUser queued again: %v", got)
	}
	if got := deliveryKeys(t, s, "u2"); len(got) != 0 {
		t.Errorf("RevokeUser(u1) queued for u2 (session %s): %v", other.ID, got)
	}

	u3 := session("u3", "bc1")
	ok(t, "RevokeAll", s.RevokeAll(ctx, later))
	if got := deliveryKeys(t, s, "u3"); len(got) != 0 {
		t.Errorf("RevokeAll queued %v for session %s; it is documented not to", got, u3.ID)
	}
}

// testLogoutDeliveryLifecycle walks one delivery through a claim, a failed
// attempt, a retry, success, and another through giving up.
func testLogoutDeliveryLifecycle(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	session := logoutFixture(t, s, at)
	ok(t, "RevokeSession", s.RevokeSession(ctx, session("u1", "bc1").ID, at))
	ok(t, "RevokeSession", s.RevokeSession(ctx, session("u1", "bc2").ID, at.Add(time.Second)))

	due, err := s.DueLogoutDeliveries(ctx, at, 10)
	ok(t, "DueLogoutDeliveries", err)
	if len(due) != 1 || due[0].ClientID != "bc1" {
		t.Fatalf("due at %v = %+v, want bc1 only", at, due)
	}
	if due, _ := s.DueLogoutDeliveries(ctx, at.Add(time.Second), 1); len(due) != 1 || due[0].ClientID != "bc1" {
		t.Fatalf("due with limit 1 = %+v, want the oldest (bc1)", due)
	}
	d := due[0]
	retry := at.Add(10 * time.Second)
	wantErr(t, "Claim with a stale count", s.ClaimLogoutDelivery(ctx, d.ID, 1, at, retry), storage.ErrAlreadyUsed)
	wantErr(t, "Claim before due", s.ClaimLogoutDelivery(ctx, d.ID, 0, at.Add(-time.Second), retry), storage.ErrAlreadyUsed)
	ok(t, "Claim", s.ClaimLogoutDelivery(ctx, d.ID, 0, at, retry))
	wantErr(t, "Claim twice", s.ClaimLogoutDelivery(ctx, d.ID, 0, at, retry), storage.ErrAlreadyUsed)
	if due, _ := s.DueLogoutDeliveries(ctx, at, 10); len(due) != 0 {
		t.Errorf("a claimed delivery is still due: %+v", due)
	}
	ok(t, "Finish with an error", s.FinishLogoutDelivery(ctx, d.ID, 1, "HTTP 503", false, at))
	due, _ = s.DueLogoutDeliveries(ctx, retry, 10)
	// Oldest due first: bc2 (due at +1s) before the retry of bc1 (+10s).
	if len(due) != 2 || due[1].ID != d.ID || due[1].Attempts != 1 || due[1].LastError != "HTTP 503" {
		t.Fatalf("due at the retry = %+v, want bc2, then bc1 after one failed attempt", due)
	}
	sameTime(t, s, "NextAttemptAt", due[1].NextAttemptAt, retry)
	ok(t, "Claim again", s.ClaimLogoutDelivery(ctx, d.ID, 1, retry, retry.Add(30*time.Second)))
	wantErr(t, "Finish a stale attempt", s.FinishLogoutDelivery(ctx, d.ID, 1, "", false, retry), storage.ErrAlreadyUsed)
	ok(t, "Finish delivered", s.FinishLogoutDelivery(ctx, d.ID, 2, "", false, retry))
	wantErr(t, "Finish twice", s.FinishLogoutDelivery(ctx, d.ID, 2, "", false, retry), storage.ErrAlreadyUsed)

	g := due[0]
	ok(t, "Claim bc2", s.ClaimLogoutDelivery(ctx, g.ID, 0, retry, retry.Add(time.Hour)))
	ok(t, "Give up", s.FinishLogoutDelivery(ctx, g.ID, 1, "connection refused", true, retry))
	if due, _ := s.DueLogoutDeliveries(ctx, retry.Add(48*time.Hour), 10); len(due) != 0 {
		t.Errorf("delivered or abandoned rows are due again: %+v", due)
	}
	list, err := s.LogoutDeliveries(ctx, "u1")
	ok(t, "LogoutDeliveries", err)
	n, err := s.PurgeLogoutDeliveries(ctx, retry, 10)
	if err != nil || n != 0 {
		t.Errorf("PurgeLogoutDeliveries at the cutoff = %d, %v; want nothing purged yet", n, err)
	}
	for _, x := range list {
		switch x.ID {
		case d.ID:
			sameTimePtr(t, s, "DeliveredAt", x.DeliveredAt, retry)
			if x.FailedAt != nil || x.Attempts != 2 || x.LastError != "" {
				t.Errorf("delivered row = %+v", x)
			}
		case g.ID:
			sameTimePtr(t, s, "FailedAt", x.FailedAt, retry)
			if x.DeliveredAt != nil || x.LastError != "connection refused" {
				t.Errorf("abandoned row = %+v", x)
			}
		}
	}
}

// testConcurrentClaimLogout: of many replicas claiming one due delivery,
// exactly one sends it.
func testConcurrentClaimLogout(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	session := logoutFixture(t, s, at)
	ok(t, "RevokeSession", s.RevokeSession(ctx, session("u1", "bc1").ID, at))
	due, err := s.DueLogoutDeliveries(ctx, at, 10)
	ok(t, "DueLogoutDeliveries", err)
	if len(due) != 1 {
		t.Fatalf("due = %+v", due)
	}
	race(t, func(i int) error {
		return s.ClaimLogoutDelivery(ctx, due[0].ID, 0, at, at.Add(10*time.Second))
	})
}

// testConcurrentRevokeSession: however many revoke one session at once
// (end_session and an admin), its clients are queued once.
func testConcurrentRevokeSession(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	sess := logoutFixture(t, s, at)("u1", "bc1", "bc2")
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			<-start
			if i%2 == 0 {
				errs[i] = s.RevokeSession(ctx, sess.ID, at)
			} else {
				errs[i] = s.RevokeUser(ctx, "u1", at)
			}
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	want := []string{"bc1/" + sess.ID, "bc2/" + sess.ID}
	if got := deliveryKeys(t, s, "u1"); !slices.Equal(got, want) {
		t.Errorf("deliveries %v, want %v", got, want)
	}
}

// testPurgeLogoutDeliveries: finished deliveries go after the cutoff,
// pending ones stay whatever their age.
func testPurgeLogoutDeliveries(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	session := logoutFixture(t, s, at)
	for range 3 {
		ok(t, "RevokeSession", s.RevokeSession(ctx, session("u1", "bc1").ID, at))
	}
	due, err := s.DueLogoutDeliveries(ctx, at, 10)
	ok(t, "DueLogoutDeliveries", err)
	for i, d := range due[:2] {
		ok(t, "Claim", s.ClaimLogoutDelivery(ctx, d.ID, 0, at, at.Add(time.Hour)))
		ok(t, "Finish", s.FinishLogoutDelivery(ctx, d.ID, 1, []string{"", "HTTP 500"}[i], true, at))
	}
	n, err := s.PurgeLogoutDeliveries(ctx, at.Add(time.Second), 1)
	if err != nil || n != 1 {
		t.Fatalf("PurgeLogoutDeliveries batch 1 = %d, %v", n, err)
	}
	n, err = s.PurgeLogoutDeliveries(ctx, at.Add(time.Second), 10)
	if err != nil || n != 1 {
		t.Fatalf("PurgeLogoutDeliveries = %d, %v; want the other finished row", n, err)
	}
	if got := deliveryKeys(t, s, "u1"); len(got) != 1 || got[0] != "bc1/"+due[2].SessionID {
		t.Errorf("left after purge: %v, want the pending delivery only", got)
	}
}

// testLiveSessionBySID checks the lookup a relying party's logout uses: by
// user and sid, the live session only, across a rotation.
func testLiveSessionBySID(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	first := &storage.Session{ID: newID(), SID: "sid-1", UserID: "u1", AuthTime: at, Clients: storage.StringList{"app"},
		CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour)}
	ok(t, "CreateSession", s.CreateSession(ctx, first))
	next := &storage.Session{ID: newID(), UserID: "u1", AuthTime: at, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour)}
	ok(t, "RotateSession", s.RotateSession(ctx, first.ID, next, at))

	got, err := s.LiveSessionBySID(ctx, "u1", "sid-1", at)
	ok(t, "LiveSessionBySID", err)
	if got.ID != next.ID || !got.Clients.Contains("app") {
		t.Errorf("LiveSessionBySID = %s %v, want the rotated session %s with its client", got.ID, got.Clients, next.ID)
	}
	for _, tc := range []struct {
		name, user, sid string
		at              time.Time
	}{
		{"another user's", "u2", "sid-1", at},
		{"empty sid", "u1", "", at},
		{"unknown sid", "u1", "sid-2", at},
		{"expired", "u1", "sid-1", at.Add(time.Hour)},
	} {
		_, err := s.LiveSessionBySID(ctx, tc.user, tc.sid, tc.at)
		wantErr(t, "LiveSessionBySID "+tc.name, err, storage.ErrNotFound)
	}
	ok(t, "RevokeSession", s.RevokeSession(ctx, next.ID, at))
	_, err = s.LiveSessionBySID(ctx, "u1", "sid-1", at)
	wantErr(t, "LiveSessionBySID revoked", err, storage.ErrNotFound)
}
