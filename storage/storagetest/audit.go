package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

func testAudit(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	t0 := now().Add(-time.Hour)
	events := []storage.AuditEvent{
		{CreatedAt: t0, Type: "login", UserID: "u1", ClientID: "app", Outcome: "ok"},
		{CreatedAt: t0.Add(time.Minute), Type: "login", UserID: "u2", ClientID: "app", Outcome: "fail"},
		{CreatedAt: t0.Add(2 * time.Minute), Type: "token", UserID: "u1", ClientID: "cli", IP: "192.0.2.1"},
		{CreatedAt: t0.Add(3 * time.Minute), Type: "logout", UserID: "u1", ClientID: "app", Actor: "admin", Detail: "x"},
	}
	for i := range events {
		ok(t, "Audit", s.Audit(ctx, &events[i]))
		if events[i].ID == 0 {
			t.Fatalf("Audit did not assign an id to event %d", i)
		}
	}
	auto := storage.AuditEvent{Type: "purge"}
	ok(t, "Audit without CreatedAt", s.Audit(ctx, &auto))
	if auto.CreatedAt.IsZero() || auto.ID <= events[3].ID {
		t.Errorf("Audit without CreatedAt = %+v", auto)
	}

	cases := []struct {
		name   string
		filter storage.AuditFilter
		want   []int64
	}{
		{"all", storage.AuditFilter{}, []int64{auto.ID, events[3].ID, events[2].ID, events[1].ID, events[0].ID}},
		{"user", storage.AuditFilter{UserID: "u1"}, []int64{events[3].ID, events[2].ID, events[0].ID}},
		{"client", storage.AuditFilter{ClientID: "app"}, []int64{events[3].ID, events[1].ID, events[0].ID}},
		{"type", storage.AuditFilter{Type: "login"}, []int64{events[1].ID, events[0].ID}},
		{"since", storage.AuditFilter{Since: t0.Add(2 * time.Minute)}, []int64{auto.ID, events[3].ID, events[2].ID}},
		{"combined", storage.AuditFilter{UserID: "u1", ClientID: "app", Type: "login"}, []int64{events[0].ID}},
		{"limit", storage.AuditFilter{UserID: "u1", Limit: 2}, []int64{events[3].ID, events[2].ID}},
		{"none", storage.AuditFilter{UserID: "nobody"}, nil},
	}
	for _, tc := range cases {
		got, err := s.AuditEvents(ctx, tc.filter)
		ok(t, "AuditEvents "+tc.name, err)
		ids := make([]int64, 0, len(got))
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, tc.want) && !(len(ids) == 0 && len(tc.want) == 0) {
			t.Errorf("AuditEvents(%s) = %v, want %v", tc.name, ids, tc.want)
		}
	}
	got, err := s.AuditEvents(ctx, storage.AuditFilter{Type: "logout"})
	ok(t, "AuditEvents", err)
	if len(got) != 1 || got[0].Actor != "admin" || got[0].Detail != "x" || got[0].UserID != "u1" {
		t.Errorf("AuditEvents(logout) = %+v", got)
	}
	sameTime(t, s, "CreatedAt", got[0].CreatedAt, events[3].CreatedAt)

	// The default limit is 100.
	for range 105 {
		ok(t, "Audit", s.Audit(ctx, &storage.AuditEvent{Type: "bulk"}))
	}
	if got, _ := s.AuditEvents(ctx, storage.AuditFilter{Type: "bulk"}); len(got) != 100 {
		t.Errorf("AuditEvents without a limit returned %d events, want 100", len(got))
	}
}

func testPurge(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	past, future := at.Add(-time.Minute), at.Add(time.Hour)
	var live []func() error
	for i := range 3 {
		exp := past
		if i == 2 {
			exp = future
		}
		a := newAuthRequest(at)
		a.ExpiresAt = exp
		ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
		tok := newAccessToken(at, "app", "", "")
		tok.ExpiresAt = exp
		ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, tok))
		r := newRefreshToken(at, "app", "f", "")
		r.ExpiresAt = exp
		ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r))
		sess := &storage.Session{ID: newID(), UserID: "u1", AuthTime: at, CreatedAt: at, LastSeenAt: at, ExpiresAt: exp}
		ok(t, "CreateSession", s.CreateSession(ctx, sess))
		if i == 2 {
			live = []func() error{
				func() error { _, err := s.AuthRequest(ctx, a.ID, at); return err },
				func() error { _, err := s.ActiveAccessToken(ctx, tok.ID, at); return err },
				func() error { _, err := s.RefreshTokenByHash(ctx, r.TokenHash); return err },
				func() error { _, err := s.ActiveSession(ctx, sess.ID, at); return err },
			}
		}
	}
	key := func(id string, created time.Time) *storage.SigningKey {
		return &storage.SigningKey{ID: id, Algorithm: "ES256", PrivateKey: []byte("sealed"), PublicKey: "{}", CreatedAt: created}
	}
	ok(t, "AddSigningKey", s.AddSigningKey(ctx, key("old", at.Add(-3*time.Hour)), at))
	ok(t, "AddSigningKey", s.AddSigningKey(ctx, key("mid", at.Add(-2*time.Hour)), past))
	ok(t, "AddSigningKey", s.AddSigningKey(ctx, key("cur", at.Add(-time.Minute)), future))

	// Two expired rows of each of four kinds and one key past its
	// visibility: batch 1 takes one of each kind and the key, the next call
	// the rest, the third nothing.
	for i, want := range []int64{5, 4, 0} {
		n, err := s.Purge(ctx, at, 1)
		ok(t, "Purge", err)
		if n != want {
			t.Errorf("Purge call %d removed %d rows, want %d", i+1, n, want)
		}
	}
	for i, check := range live {
		if err := check(); err != nil {
			t.Errorf("live row %d: %v", i, err)
		}
	}
	keys, err := s.SigningKeys(ctx, past.Add(-time.Hour))
	ok(t, "SigningKeys", err)
	if ids := keyIDs(keys); !slices.Equal(ids, []string{"cur", "mid"}) {
		t.Errorf("SigningKeys after Purge = %v, want [cur mid]", ids)
	}
	if n, err := s.Purge(ctx, future.Add(time.Second), 0); n != 1 || err != nil {
		t.Errorf("Purge with batch 0 = %d, %v; want only the key past its visibility", n, err)
	}
	if n, err := s.Purge(ctx, future.Add(time.Second), 100); n != 4 || err != nil {
		t.Errorf("Purge after every expiry = %d, %v; want 4", n, err)
	}
}
