package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

func testClients(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	c := &storage.Client{
		ID: "web", Name: "Web app", SecretHash: "h1", AuthMethod: "client_secret_basic",
		ApplicationType: "web", RedirectURIs: storage.StringList{"https://web.example/cb"},
		GrantTypes: storage.StringList{"authorization_code", "refresh_token"}, AccessTokenFormat: "jwt",
	}
	ok(t, "CreateClient", s.CreateClient(ctx, c))
	ok(t, "CreateClient spa", s.CreateClient(ctx, &storage.Client{ID: "spa", Name: "A SPA", AuthMethod: "none"}))
	wantErr(t, "CreateClient duplicate", s.CreateClient(ctx, &storage.Client{ID: "web", AuthMethod: "none"}), storage.ErrConflict)

	got, err := s.Client(ctx, "web")
	ok(t, "Client", err)
	if got.Name != c.Name || got.SecretHash != "h1" || got.AuthMethod != c.AuthMethod || got.AccessTokenFormat != "jwt" ||
		!slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.GrantTypes, c.GrantTypes) ||
		len(got.PostLogoutRedirectURIs) != 0 {
		t.Errorf("Client = %+v, want %+v", got, c)
	}
	if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
		t.Errorf("Client timestamps not set: %+v", got)
	}
	_, err = s.Client(ctx, "nope")
	wantErr(t, "Client unknown", err, storage.ErrNotFound)

	list, err := s.Clients(ctx)
	ok(t, "Clients", err)
	if len(list) != 2 || list[0].ID != "spa" || list[1].ID != "web" {
		t.Errorf("Clients = %v, want spa, web (by name)", list)
	}

	ok(t, "SetClientSecretHash", s.SetClientSecretHash(ctx, "web", "h2", at.Add(time.Second)))
	got, err = s.Client(ctx, "web")
	ok(t, "Client", err)
	if got.SecretHash != "h2" {
		t.Errorf("SecretHash = %q, want h2", got.SecretHash)
	}
	sameTime(t, s, "UpdatedAt", got.UpdatedAt, at.Add(time.Second))
	wantErr(t, "SetClientSecretHash unknown", s.SetClientSecretHash(ctx, "nope", "x", at), storage.ErrNotFound)

	// Deleting a client revokes what was issued to it, and only that.
	access := newAccessToken(at, "web", "f1", "")
	refresh := newRefreshToken(at, "web", "f1", "")
	other := newAccessToken(at, "spa", "f2", "")
	for _, a := range []*storage.AccessToken{access, other} {
		ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a))
	}
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, refresh))
	ok(t, "DeleteClient", s.DeleteClient(ctx, "web", at))
	_, err = s.Client(ctx, "web")
	wantErr(t, "Client after delete", err, storage.ErrNotFound)
	wantErr(t, "DeleteClient again", s.DeleteClient(ctx, "web", at), storage.ErrNotFound)
	wantErr(t, "DeleteClient unknown", s.DeleteClient(ctx, "nope", at), storage.ErrNotFound)
	if accessActive(t, s, access.ID, at) || !refreshRevoked(t, s, refresh.TokenHash) {
		t.Error("DeleteClient left the client's tokens active")
	}
	if !accessActive(t, s, other.ID, at) {
		t.Error("DeleteClient revoked another client's token")
	}
}

func testStringList(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	cases := []storage.StringList{
		nil,
		{},
		{""},
		{"a"},
		{"with,comma", `with "quotes"`, "with\nnewline", "ünïcode ✓", "[]"},
	}
	for i, l := range cases {
		c := &storage.Client{ID: newID(), AuthMethod: "none", RedirectURIs: l}
		ok(t, "CreateClient", s.CreateClient(ctx, c))
		got, err := s.Client(ctx, c.ID)
		ok(t, "Client", err)
		// nil and empty both read back as empty: the column is NOT NULL "[]".
		if !slices.Equal(got.RedirectURIs, l) {
			t.Errorf("case %d: round trip of %q = %q", i, l, got.RedirectURIs)
		}
	}
	var l storage.StringList
	if err := l.Scan(nil); err != nil || l != nil {
		t.Errorf("Scan(nil) = %v, %v; want nil list", l, err)
	}
	if err := l.Scan([]byte(`["x","y"]`)); err != nil || !l.Contains("y") || l.Contains("z") {
		t.Errorf("Scan([]byte) = %v, %v", l, err)
	}
	if err := l.Scan(42); err == nil {
		t.Error("Scan(int) succeeded")
	}
	if err := l.Scan("not json"); err == nil {
		t.Error("Scan of invalid JSON succeeded")
	}
}

func testUsers(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	alice := &storage.User{ID: "u-alice", Username: "Alice", Email: "alice@example.com", PasswordHash: "ph"}
	ok(t, "CreateUser", s.CreateUser(ctx, alice))
	if alice.Username != "alice" {
		t.Errorf("CreateUser left Username %q, want alice", alice.Username)
	}
	ok(t, "CreateUser bob", s.CreateUser(ctx, &storage.User{ID: "u-bob", Username: "bob"}))
	wantErr(t, "CreateUser same username, other case",
		s.CreateUser(ctx, &storage.User{ID: "u-alice2", Username: "ALICE"}), storage.ErrConflict)
	wantErr(t, "CreateUser same id", s.CreateUser(ctx, &storage.User{ID: "u-alice", Username: "carol"}), storage.ErrConflict)

	for _, name := range []string{"alice", "ALICE", "aLiCe"} {
		u, err := s.UserByUsername(ctx, name)
		if err != nil || u.ID != "u-alice" || u.Username != "alice" {
			t.Errorf("UserByUsername(%q) = %+v, %v", name, u, err)
		}
	}
	_, err := s.UserByUsername(ctx, "nobody")
	wantErr(t, "UserByUsername unknown", err, storage.ErrNotFound)
	_, err = s.User(ctx, "nope")
	wantErr(t, "User unknown", err, storage.ErrNotFound)

	list, err := s.UsersAfter(ctx, "", 10)
	ok(t, "UsersAfter", err)
	if len(list) != 2 || list[0].Username != "alice" || list[1].Username != "bob" {
		t.Errorf("UsersAfter(\"\", 10) = %v", list)
	}
	if list, _ := s.UsersAfter(ctx, "", 1); len(list) != 1 || list[0].Username != "alice" {
		t.Errorf("UsersAfter(\"\", 1) = %v", list)
	}
	if list, _ := s.UsersAfter(ctx, "alice", 10); len(list) != 1 || list[0].Username != "bob" {
		t.Errorf("UsersAfter(alice, 10) = %v", list)
	}

	later := at.Add(time.Minute)
	ok(t, "UpdateUser", s.UpdateUser(ctx, "u-alice", storage.UserUpdate{
		Name: new("Alice A."), EmailVerified: new(true), Phone: new("+15550100"), Disabled: new(true),
	}, later))
	u, err := s.User(ctx, "u-alice")
	ok(t, "User", err)
	if u.Name != "Alice A." || !u.EmailVerified || u.Phone != "+15550100" || !u.Disabled || u.PasswordHash != "ph" {
		t.Errorf("after UpdateUser: %+v", u)
	}
	sameTime(t, s, "UpdatedAt", u.UpdatedAt, later)
	wantErr(t, "UpdateUser unknown", s.UpdateUser(ctx, "nope", storage.UserUpdate{Name: new("x")}, later), storage.ErrNotFound)

	// A renamed user is still found case-insensitively.
	ok(t, "UpdateUser username", s.UpdateUser(ctx, "u-bob", storage.UserUpdate{Username: new("Robert")}, later))
	if u, err := s.UserByUsername(ctx, "robert"); err != nil || u.ID != "u-bob" {
		t.Errorf("UserByUsername after rename = %+v, %v", u, err)
	}
	err = s.UpdateUser(ctx, "u-bob", storage.UserUpdate{Username: new("ALICE")}, later)
	wantErr(t, "UpdateUser to a taken username", err, storage.ErrConflict)

	// A rehash replaces the hash it was computed from, and only that one.
	ok(t, "RehashPassword", s.RehashPassword(ctx, "u-alice", "ph", "ph-stronger"))
	wantErr(t, "RehashPassword from a hash that changed meanwhile", s.RehashPassword(ctx, "u-alice", "ph", "ph-stale"), storage.ErrAlreadyUsed)
	wantErr(t, "RehashPassword unknown user", s.RehashPassword(ctx, "nope", "ph", "x"), storage.ErrAlreadyUsed)
	if u, err := s.User(ctx, "u-alice"); err != nil || u.PasswordHash != "ph-stronger" {
		t.Errorf("after RehashPassword: %+v, %v", u, err)
	} else {
		sameTime(t, s, "UpdatedAt after RehashPassword", u.UpdatedAt, later)
	}

	sess := &storage.Session{ID: newID(), UserID: "u-alice", AuthTime: at, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour)}
	ok(t, "CreateSession", s.CreateSession(ctx, sess))
	ok(t, "DeleteUser", s.DeleteUser(ctx, "u-alice", at))
	_, err = s.User(ctx, "u-alice")
	wantErr(t, "User after delete", err, storage.ErrNotFound)
	_, err = s.ActiveSession(ctx, sess.ID, at)
	wantErr(t, "session of a deleted user", err, storage.ErrNotFound)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx, "u-alice", at), storage.ErrNotFound)
	if err := s.CreateUser(ctx, &storage.User{ID: "u-alice3", Username: "alice"}); errors.Is(err, storage.ErrConflict) {
		t.Error("username of a deleted user is still taken")
	}
}
