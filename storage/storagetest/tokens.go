package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

func testAccessTokens(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	tok := newAccessToken(at, "app", "f1", "s1")
	ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, tok))
	wantErr(t, "CreateAccessToken duplicate", s.CreateAccessToken(ctx, newAccessTokenWithID(tok.ID, at)), storage.ErrConflict)
	got, err := s.ActiveAccessToken(ctx, tok.ID, at)
	ok(t, "ActiveAccessToken", err)
	if got.ClientID != "app" || got.Subject != "u1" || got.FamilyID != "f1" || got.SessionID != "s1" ||
		!slices.Equal(got.Scopes, tok.Scopes) || !slices.Equal(got.Audience, tok.Audience) || got.RevokedAt != nil {
		t.Errorf("ActiveAccessToken = %+v, want %+v", got, tok)
	}
	sameTime(t, s, "ExpiresAt", got.ExpiresAt, tok.ExpiresAt)
	if accessActive(t, s, tok.ID, tok.ExpiresAt) {
		t.Error("access token active at its expiry")
	}
	if accessActive(t, s, "nope", at) {
		t.Error("unknown access token active")
	}

	// Only the client the token was issued to can revoke it.
	ok(t, "RevokeAccessToken other client", s.RevokeAccessToken(ctx, tok.ID, "other", at))
	if !accessActive(t, s, tok.ID, at) {
		t.Error("another client revoked the token")
	}
	ok(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, tok.ID, "app", at))
	if accessActive(t, s, tok.ID, at) {
		t.Error("revoked access token still active")
	}
	ok(t, "RevokeAccessToken again", s.RevokeAccessToken(ctx, tok.ID, "app", at))
}

func newAccessTokenWithID(id string, at time.Time) *storage.AccessToken {
	tok := newAccessToken(at, "app", "", "")
	tok.ID = id
	return tok
}

func testRefreshTokens(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	r1 := newRefreshToken(at, "app", "fam", "s1")
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r1))
	dup := newRefreshToken(at, "app", "fam", "s1")
	dup.TokenHash = r1.TokenHash
	wantErr(t, "CreateRefreshToken with a duplicate hash", s.CreateRefreshToken(ctx, dup), storage.ErrConflict)

	got, err := s.RefreshTokenByHash(ctx, r1.TokenHash)
	ok(t, "RefreshTokenByHash", err)
	if got.ID != r1.ID || got.FamilyID != "fam" || got.ACR != "1" || !slices.Equal(got.AMR, r1.AMR) ||
		!slices.Equal(got.Scopes, r1.Scopes) || got.UsedAt != nil || got.RevokedAt != nil {
		t.Errorf("RefreshTokenByHash = %+v, want %+v", got, r1)
	}
	sameTime(t, s, "AuthTime", got.AuthTime, r1.AuthTime)
	_, err = s.RefreshTokenByHash(ctx, "nope")
	wantErr(t, "RefreshTokenByHash unknown", err, storage.ErrNotFound)

	r2 := newRefreshToken(at, "app", "fam", "s1")
	ok(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, r1.ID, r2, at))
	r3 := newRefreshToken(at, "app", "fam", "s1")
	wantErr(t, "RotateRefreshToken reuse", s.RotateRefreshToken(ctx, r1.ID, r3, at), storage.ErrAlreadyUsed)
	_, err = s.RefreshTokenByHash(ctx, r3.TokenHash)
	wantErr(t, "token stored by a losing rotation", err, storage.ErrNotFound)
	got, err = s.RefreshTokenByHash(ctx, r1.TokenHash)
	ok(t, "RefreshTokenByHash", err)
	sameTimePtr(t, s, "UsedAt", got.UsedAt, at)
	if got.SuccessorID != r2.ID {
		t.Errorf("rotated token's SuccessorID = %q, want the winner %q", got.SuccessorID, r2.ID)
	}
	if fresh, _ := s.RefreshTokenByHash(ctx, r2.TokenHash); fresh == nil || fresh.SuccessorID != "" {
		t.Errorf("a token not yet rotated has a successor: %+v", fresh)
	}
	if _, err := s.RefreshTokenByHash(ctx, r2.TokenHash); err != nil {
		t.Errorf("rotated-in token: %v", err)
	}

	// Expired and revoked tokens do not rotate.
	wantErr(t, "RotateRefreshToken at expiry",
		s.RotateRefreshToken(ctx, r2.ID, newRefreshToken(at, "app", "fam", ""), r2.ExpiresAt), storage.ErrAlreadyUsed)
	ok(t, "RevokeFamily", s.RevokeFamily(ctx, "fam", at))
	wantErr(t, "RotateRefreshToken revoked",
		s.RotateRefreshToken(ctx, r2.ID, newRefreshToken(at, "app", "fam", ""), at), storage.ErrAlreadyUsed)
	wantErr(t, "RotateRefreshToken unknown",
		s.RotateRefreshToken(ctx, "nope", newRefreshToken(at, "app", "fam", ""), at), storage.ErrAlreadyUsed)

	// A rotation whose new token cannot be stored leaves the old one unused.
	r4 := newRefreshToken(at, "app", "fam2", "")
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r4))
	clash := newRefreshToken(at, "app", "fam2", "")
	clash.TokenHash = r2.TokenHash
	wantErr(t, "RotateRefreshToken into a taken hash", s.RotateRefreshToken(ctx, r4.ID, clash, at), storage.ErrConflict)
	if got, err := s.RefreshTokenByHash(ctx, r4.TokenHash); err != nil || got.UsedAt != nil {
		t.Errorf("failed rotation marked the old token used: %+v, %v", got, err)
	}
}

func testRevokeFamily(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	a1, a2 := newAccessToken(at, "app", "f1", ""), newAccessToken(at, "app", "f2", "")
	r1, r2 := newRefreshToken(at, "app", "f1", ""), newRefreshToken(at, "app", "f2", "")
	for _, a := range []*storage.AccessToken{a1, a2} {
		ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a))
	}
	for _, r := range []*storage.RefreshToken{r1, r2} {
		ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r))
	}
	ok(t, "RevokeFamily", s.RevokeFamily(ctx, "f1", at))
	if accessActive(t, s, a1.ID, at) || !refreshRevoked(t, s, r1.TokenHash) {
		t.Error("RevokeFamily left the family's tokens active")
	}
	if !accessActive(t, s, a2.ID, at) || refreshRevoked(t, s, r2.TokenHash) {
		t.Error("RevokeFamily revoked another family")
	}
	ok(t, "RevokeFamily unknown", s.RevokeFamily(ctx, "nope", at))
}

func testSessions(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	mk := func(user string, created time.Time, ttl time.Duration) *storage.Session {
		sess := &storage.Session{
			ID: newID(), UserID: user, AuthTime: created, AMR: storage.StringList{"pwd", "otp"}, ACR: "2fa",
			IP: "192.0.2.1", UserAgent: "test", CreatedAt: created, LastSeenAt: created, ExpiresAt: created.Add(ttl),
		}
		ok(t, "CreateSession", s.CreateSession(ctx, sess))
		return sess
	}
	old := mk("u1", at.Add(-2*time.Hour), 90*24*time.Hour)
	cur := mk("u1", at.Add(-time.Hour), 90*24*time.Hour)
	gone := mk("u1", at.Add(-3*time.Hour), time.Hour)
	other := mk("u2", at, time.Hour)

	got, err := s.ActiveSession(ctx, cur.ID, at)
	ok(t, "ActiveSession", err)
	if got.UserID != "u1" || got.ACR != "2fa" || !slices.Equal(got.AMR, cur.AMR) || got.IP != cur.IP || got.UserAgent != "test" {
		t.Errorf("ActiveSession = %+v, want %+v", got, cur)
	}
	sameTime(t, s, "AuthTime", got.AuthTime, cur.AuthTime)
	_, err = s.ActiveSession(ctx, gone.ID, at)
	wantErr(t, "ActiveSession expired", err, storage.ErrNotFound)
	_, err = s.ActiveSession(ctx, "nope", at)
	wantErr(t, "ActiveSession unknown", err, storage.ErrNotFound)

	ok(t, "TouchSession", s.TouchSession(ctx, cur.ID, at))
	got, err = s.ActiveSession(ctx, cur.ID, at)
	ok(t, "ActiveSession", err)
	sameTime(t, s, "LastSeenAt", got.LastSeenAt, at)

	list, err := s.Sessions(ctx, "u1", at)
	ok(t, "Sessions", err)
	if ids := sessionIDs(list); !slices.Equal(ids, []string{cur.ID, old.ID}) {
		t.Errorf("Sessions(u1) = %v, want [cur old]", ids)
	}
	list, err = s.Sessions(ctx, "", at)
	ok(t, "Sessions all", err)
	if ids := sessionIDs(list); !slices.Equal(ids, []string{other.ID, cur.ID, old.ID}) {
		t.Errorf("Sessions() = %v, want [other cur old]", ids)
	}

	// Ending a session revokes the tokens issued under it, and only those.
	a1, a2 := newAccessToken(at, "app", "f1", cur.ID), newAccessToken(at, "app", "f2", old.ID)
	r1, r2 := newRefreshToken(at, "app", "f1", cur.ID), newRefreshToken(at, "app", "f2", old.ID)
	ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a1))
	ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a2))
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r1))
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r2))
	ok(t, "RevokeSession", s.RevokeSession(ctx, cur.ID, at))
	_, err = s.ActiveSession(ctx, cur.ID, at)
	wantErr(t, "ActiveSession revoked", err, storage.ErrNotFound)
	if accessActive(t, s, a1.ID, at) || !refreshRevoked(t, s, r1.TokenHash) {
		t.Error("RevokeSession left the session's tokens active")
	}
	if !accessActive(t, s, a2.ID, at) || refreshRevoked(t, s, r2.TokenHash) {
		t.Error("RevokeSession revoked another session's tokens")
	}
	if list, _ := s.Sessions(ctx, "u1", at); !slices.Equal(sessionIDs(list), []string{old.ID}) {
		t.Errorf("Sessions(u1) after revoke = %v", sessionIDs(list))
	}
	ok(t, "RevokeSession again", s.RevokeSession(ctx, cur.ID, at))
}

func sessionIDs(list []storage.Session) []string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}

func testRevokeUser(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	var sessions []*storage.Session
	for _, user := range []string{"u1", "u1", "u2"} {
		sess := &storage.Session{ID: newID(), UserID: user, AuthTime: at, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour)}
		ok(t, "CreateSession", s.CreateSession(ctx, sess))
		sessions = append(sessions, sess)
	}
	a1 := newAccessToken(at, "app", "f1", "")
	r1 := newRefreshToken(at, "app", "f1", "")
	a2 := newAccessToken(at, "app", "f2", "")
	a2.UserID = "u2"
	r2 := newRefreshToken(at, "app", "f2", "")
	r2.UserID = "u2"
	ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a1))
	ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a2))
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r1))
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r2))

	ok(t, "RevokeUser", s.RevokeUser(ctx, "u1", at))
	for i, sess := range sessions {
		_, err := s.ActiveSession(ctx, sess.ID, at)
		if revoked := err != nil; revoked != (sess.UserID == "u1") {
			t.Errorf("session %d of %s: ActiveSession err = %v", i, sess.UserID, err)
		}
	}
	if accessActive(t, s, a1.ID, at) || !refreshRevoked(t, s, r1.TokenHash) {
		t.Error("RevokeUser left the user's tokens active")
	}
	if !accessActive(t, s, a2.ID, at) || refreshRevoked(t, s, r2.TokenHash) {
		t.Error("RevokeUser revoked another user's tokens")
	}
	ok(t, "RevokeUser unknown", s.RevokeUser(ctx, "nope", at))
}

func testSigningKeys(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	t0 := now()
	mk := func(id string, created time.Time) *storage.SigningKey {
		return &storage.SigningKey{ID: id, Algorithm: "RS256", PrivateKey: []byte{0, 1, 2, 0xff, byte(len(id))}, PublicKey: `{"kid":"` + id + `"}`, CreatedAt: created}
	}
	if keys, err := s.SigningKeys(ctx, t0); err != nil || len(keys) != 0 {
		t.Fatalf("SigningKeys on an empty store = %v, %v", keys, err)
	}
	k1 := mk("k1", t0)
	ok(t, "AddSigningKey k1", s.AddSigningKey(ctx, k1, t0.Add(time.Hour)))
	t1 := t0.Add(time.Hour)
	ok(t, "AddSigningKey k2", s.AddSigningKey(ctx, mk("k2", t1), t1.Add(time.Hour)))

	keys, err := s.SigningKeys(ctx, t1)
	ok(t, "SigningKeys", err)
	if ids := keyIDs(keys); !slices.Equal(ids, []string{"k2", "k1"}) {
		t.Fatalf("SigningKeys = %v, want [k2 k1]", ids)
	}
	if keys[0].RetiredAt != nil || keys[0].VisibleUntil != nil {
		t.Errorf("new key k2 is retired: %+v", keys[0])
	}
	sameTimePtr(t, s, "k1 RetiredAt", keys[1].RetiredAt, t1)
	sameTimePtr(t, s, "k1 VisibleUntil", keys[1].VisibleUntil, t1.Add(time.Hour))
	if !slices.Equal(keys[1].PrivateKey, k1.PrivateKey) || keys[1].PublicKey != k1.PublicKey || keys[1].Algorithm != "RS256" {
		t.Errorf("k1 read back as %+v", keys[1])
	}

	// A third key retires k2 only; k1 keeps its own visibility.
	t2 := t1.Add(30 * time.Minute)
	ok(t, "AddSigningKey k3", s.AddSigningKey(ctx, mk("k3", t2), t2.Add(2*time.Hour)))
	keys, err = s.SigningKeys(ctx, t2)
	ok(t, "SigningKeys", err)
	if ids := keyIDs(keys); !slices.Equal(ids, []string{"k3", "k2", "k1"}) {
		t.Fatalf("SigningKeys = %v, want [k3 k2 k1]", ids)
	}
	sameTimePtr(t, s, "k1 VisibleUntil after k3", keys[2].VisibleUntil, t1.Add(time.Hour))
	sameTimePtr(t, s, "k2 VisibleUntil", keys[1].VisibleUntil, t2.Add(2*time.Hour))

	keys, err = s.SigningKeys(ctx, t1.Add(time.Hour))
	ok(t, "SigningKeys", err)
	if ids := keyIDs(keys); !slices.Equal(ids, []string{"k3", "k2"}) {
		t.Errorf("SigningKeys at k1's visible_until = %v, want [k3 k2]", ids)
	}
	wantErr(t, "AddSigningKey duplicate id", s.AddSigningKey(ctx, mk("k3", t2.Add(time.Hour)), t2), storage.ErrConflict)
	keys, _ = s.SigningKeys(ctx, t2)
	if len(keys) != 3 || keys[0].RetiredAt != nil {
		t.Errorf("a failed AddSigningKey retired the current key: %+v", keys)
	}

	// Each algorithm has its own active key: an ES256 key retires no RS256
	// key, and the next ES256 key retires only the ES256 one.
	es1 := mk("e1", t2)
	es1.Algorithm = "ES256"
	ok(t, "AddSigningKey e1", s.AddSigningKey(ctx, es1, t2.Add(time.Hour)))
	es2 := mk("e2", t2.Add(time.Minute))
	es2.Algorithm = "ES256"
	ok(t, "AddSigningKey e2", s.AddSigningKey(ctx, es2, t2.Add(3*time.Hour)))
	keys, err = s.SigningKeys(ctx, t2.Add(time.Minute))
	ok(t, "SigningKeys", err)
	var active []string
	for _, k := range keys {
		if k.RetiredAt == nil {
			active = append(active, k.ID)
		}
	}
	if !slices.Equal(active, []string{"e2", "k3"}) {
		t.Errorf("active keys with two algorithms = %v, want [e2 k3]", active)
	}
}

func keyIDs(keys []storage.SigningKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}
