package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

func testAuthRequests(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	zero, hour := int64(0), int64(3600)
	reqs := map[string]*int64{"nil": nil, "zero": &zero, "hour": &hour}
	for name, maxAge := range reqs {
		a := newAuthRequest(at)
		a.State, a.Nonce, a.LoginHint = "st-"+name, "n-"+name, "alice"
		a.CodeChallenge, a.CodeChallengeMethod = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256"
		a.Prompt, a.ACRValues, a.UILocales = storage.StringList{"login"}, storage.StringList{"2fa"}, storage.StringList{"fr", "en"}
		a.MaxAge = maxAge
		ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
		got, err := s.AuthRequest(ctx, a.ID, at)
		ok(t, "AuthRequest", err)
		if got.ClientID != a.ClientID || got.RedirectURI != a.RedirectURI || got.State != a.State ||
			got.Nonce != a.Nonce || got.ResponseType != "code" || got.CodeChallenge != a.CodeChallenge ||
			got.CodeChallengeMethod != "S256" || got.LoginHint != "alice" ||
			!slices.Equal(got.Scopes, a.Scopes) || !slices.Equal(got.Prompt, a.Prompt) ||
			!slices.Equal(got.ACRValues, a.ACRValues) || !slices.Equal(got.UILocales, a.UILocales) {
			t.Errorf("AuthRequest = %+v, want %+v", got, a)
		}
		if got.DoneAt != nil || got.AuthTime != nil || got.CodeExpiresAt != nil || got.RedeemedAt != nil {
			t.Errorf("new AuthRequest has state: %+v", got)
		}
		switch {
		case maxAge == nil && got.MaxAge != nil:
			t.Errorf("MaxAge nil read back as %d", *got.MaxAge)
		case maxAge != nil && (got.MaxAge == nil || *got.MaxAge != *maxAge):
			t.Errorf("MaxAge %d read back as %v", *maxAge, got.MaxAge)
		}
		// Expiry is strict: a request is gone at its ExpiresAt.
		if _, err := s.AuthRequest(ctx, a.ID, a.ExpiresAt.Add(-time.Millisecond)); err != nil {
			t.Errorf("AuthRequest just before expiry: %v", err)
		}
		_, err = s.AuthRequest(ctx, a.ID, a.ExpiresAt)
		wantErr(t, "AuthRequest at expiry", err, storage.ErrNotFound)
	}
	_, err := s.AuthRequest(ctx, "nope", at)
	wantErr(t, "AuthRequest unknown", err, storage.ErrNotFound)
	wantErr(t, "CreateAuthRequest duplicate id", s.CreateAuthRequest(ctx, &storage.AuthRequest{
		ID: newAuthRequestID(t, s, at), ClientID: "app", RedirectURI: "x", ResponseType: "code", ExpiresAt: at,
	}), storage.ErrConflict)

	// The first browser to open the login page owns the request.
	a := newAuthRequest(at)
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
	ok(t, "BindAuthRequest first", s.BindAuthRequest(ctx, a.ID, "browser-1"))
	ok(t, "BindAuthRequest same browser", s.BindAuthRequest(ctx, a.ID, "browser-1"))
	wantErr(t, "BindAuthRequest other browser", s.BindAuthRequest(ctx, a.ID, "browser-2"), storage.ErrAlreadyUsed)
	if got, _ := s.AuthRequest(ctx, a.ID, at); got == nil || got.BrowserHash != "browser-1" {
		t.Errorf("BrowserHash = %+v, want browser-1", got)
	}
	if err := s.BindAuthRequest(ctx, "nope", "browser-1"); err == nil {
		t.Error("BindAuthRequest of an unknown request succeeded")
	}

	// Completion happens once, and never after expiry.
	c := storage.Completion{UserID: "u1", SessionID: "s1", AuthTime: at.Add(-time.Minute), AMR: []string{"pwd", "sms", "mfa"}, ACR: "2fa"}
	ok(t, "CompleteAuthRequest", s.CompleteAuthRequest(ctx, a.ID, c, at))
	c2 := c
	c2.UserID = "u2"
	wantErr(t, "CompleteAuthRequest again", s.CompleteAuthRequest(ctx, a.ID, c2, at), storage.ErrAlreadyUsed)
	got, err := s.AuthRequest(ctx, a.ID, at)
	ok(t, "AuthRequest", err)
	if got.UserID != "u1" || got.SessionID != "s1" || got.ACR != "2fa" || !slices.Equal(got.AMR, c.AMR) {
		t.Errorf("completed AuthRequest = %+v, want %+v", got, c)
	}
	sameTimePtr(t, s, "AuthTime", got.AuthTime, c.AuthTime)
	sameTimePtr(t, s, "DoneAt", got.DoneAt, at)

	expired := newAuthRequest(at)
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, expired))
	wantErr(t, "CompleteAuthRequest after expiry",
		s.CompleteAuthRequest(ctx, expired.ID, c, expired.ExpiresAt), storage.ErrAlreadyUsed)
	wantErr(t, "CompleteAuthRequest unknown", s.CompleteAuthRequest(ctx, "nope", c, at), storage.ErrAlreadyUsed)
}

// newAuthRequestID stores a request and returns its id, for conflict tests.
func newAuthRequestID(t *testing.T, s *storage.Store, at time.Time) string {
	t.Helper()
	a := newAuthRequest(at)
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(t.Context(), a))
	return a.ID
}

func testAuthRequestCodes(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	a := newAuthRequest(at)
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
	codeExp := at.Add(time.Minute)
	wantErr(t, "SaveAuthCode before done", s.SaveAuthCode(ctx, a.ID, "code-1", codeExp), storage.ErrAlreadyUsed)
	_, err := s.AuthRequestByCodeHash(ctx, "code-1")
	wantErr(t, "AuthRequestByCodeHash of an unsaved code", err, storage.ErrNotFound)

	ok(t, "CompleteAuthRequest", s.CompleteAuthRequest(ctx, a.ID, storage.Completion{UserID: "u1", AuthTime: at}, at))
	ok(t, "SaveAuthCode", s.SaveAuthCode(ctx, a.ID, "code-1", codeExp))
	wantErr(t, "SaveAuthCode again", s.SaveAuthCode(ctx, a.ID, "code-2", codeExp), storage.ErrAlreadyUsed)
	wantErr(t, "SaveAuthCode unknown", s.SaveAuthCode(ctx, "nope", "code-3", codeExp), storage.ErrAlreadyUsed)

	got, err := s.AuthRequestByCodeHash(ctx, "code-1")
	ok(t, "AuthRequestByCodeHash", err)
	if got.ID != a.ID || got.CodeHash != "code-1" || got.RedeemedAt != nil {
		t.Errorf("AuthRequestByCodeHash = %+v", got)
	}
	sameTimePtr(t, s, "CodeExpiresAt", got.CodeExpiresAt, codeExp)
	for _, h := range []string{"", "code-2", "nope"} {
		_, err := s.AuthRequestByCodeHash(ctx, h)
		wantErr(t, "AuthRequestByCodeHash("+h+")", err, storage.ErrNotFound)
	}

	redeemAt := at.Add(10 * time.Second)
	ok(t, "RedeemAuthCode", s.RedeemAuthCode(ctx, a.ID, redeemAt))
	wantErr(t, "RedeemAuthCode again", s.RedeemAuthCode(ctx, a.ID, redeemAt), storage.ErrAlreadyUsed)
	got, err = s.AuthRequestByCodeHash(ctx, "code-1")
	ok(t, "AuthRequestByCodeHash after redeem", err)
	sameTimePtr(t, s, "RedeemedAt", got.RedeemedAt, redeemAt)

	// A code is dead at its expiry, and a request without a code has none to redeem.
	late := doneRequest(t, s, at)
	ok(t, "SaveAuthCode", s.SaveAuthCode(ctx, late.ID, "code-late", codeExp))
	wantErr(t, "RedeemAuthCode at code expiry", s.RedeemAuthCode(ctx, late.ID, codeExp), storage.ErrAlreadyUsed)
	wantErr(t, "RedeemAuthCode after code expiry", s.RedeemAuthCode(ctx, late.ID, codeExp.Add(time.Second)), storage.ErrAlreadyUsed)
	ok(t, "RedeemAuthCode just before code expiry", s.RedeemAuthCode(ctx, late.ID, codeExp.Add(-time.Millisecond)))
	noCode := doneRequest(t, s, at)
	wantErr(t, "RedeemAuthCode without a code", s.RedeemAuthCode(ctx, noCode.ID, at), storage.ErrAlreadyUsed)
}

// testAuthRequestTimes checks that every time column reads back as the
// instant written, to the precision of the database, and on SQLite in UTC.
func testAuthRequestTimes(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := time.Date(2031, 3, 9, 23, 59, 58, 123456789, time.UTC)
	a := newAuthRequest(at)
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
	authTime := at.Add(-1500 * time.Microsecond)
	ok(t, "CompleteAuthRequest", s.CompleteAuthRequest(ctx, a.ID, storage.Completion{UserID: "u1", AuthTime: authTime}, at.Add(time.Nanosecond)))
	codeExp := at.Add(time.Minute + 999*time.Nanosecond)
	ok(t, "SaveAuthCode", s.SaveAuthCode(ctx, a.ID, "c", codeExp))
	ok(t, "RedeemAuthCode", s.RedeemAuthCode(ctx, a.ID, at.Add(time.Second)))
	got, err := s.AuthRequestByCodeHash(ctx, "c")
	ok(t, "AuthRequestByCodeHash", err)
	sameTime(t, s, "CreatedAt", got.CreatedAt, a.CreatedAt)
	sameTime(t, s, "ExpiresAt", got.ExpiresAt, a.ExpiresAt)
	sameTimePtr(t, s, "AuthTime", got.AuthTime, authTime)
	sameTimePtr(t, s, "DoneAt", got.DoneAt, at.Add(time.Nanosecond))
	sameTimePtr(t, s, "CodeExpiresAt", got.CodeExpiresAt, codeExp)
	sameTimePtr(t, s, "RedeemedAt", got.RedeemedAt, at.Add(time.Second))
	if s.IsPostgres() {
		return // pgx reads timestamptz in time.Local: the same instant, another zone
	}
	for name, tm := range map[string]time.Time{"CreatedAt": got.CreatedAt, "ExpiresAt": got.ExpiresAt} {
		if _, off := tm.Zone(); off != 0 {
			t.Errorf("%s read back with offset %d, want UTC", name, off)
		}
	}
}

// testTimeZones checks that expiry compares instants whatever zone the
// caller's clock uses: SQLite keeps times as text, so a store that let a
// zone through would compare wall clocks.
func testTimeZones(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	east := time.FixedZone("UTC+14", 14*3600)
	west := time.FixedZone("UTC-10", -10*3600)
	at := now()

	a := newAuthRequest(at.In(east))
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
	if _, err := s.AuthRequest(ctx, a.ID, at.In(west)); err != nil {
		t.Errorf("AuthRequest before expiry, other zone: %v", err)
	}
	_, err := s.AuthRequest(ctx, a.ID, at.Add(time.Hour))
	wantErr(t, "AuthRequest an hour after expiry (stored east, asked in UTC)", err, storage.ErrNotFound)

	sess := &storage.Session{ID: newID(), UserID: "u1", AuthTime: at, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour)}
	ok(t, "CreateSession", s.CreateSession(ctx, sess))
	if _, err := s.ActiveSession(ctx, sess.ID, at.In(east)); err != nil {
		t.Errorf("ActiveSession before expiry, asked in UTC+14: %v", err)
	}
	_, err = s.ActiveSession(ctx, sess.ID, at.Add(2*time.Hour).In(west))
	wantErr(t, "ActiveSession after expiry, asked in UTC-10", err, storage.ErrNotFound)

	got, err := s.AuthRequest(ctx, a.ID, at)
	ok(t, "AuthRequest", err)
	sameTime(t, s, "ExpiresAt written in UTC+14", got.ExpiresAt, a.ExpiresAt)
}
