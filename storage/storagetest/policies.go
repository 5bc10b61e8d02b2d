package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// policyTests are the policy, session-mark and session-rotation topics; Run
// registers them.
var policyTests = []struct {
	name string
	fn   func(t *testing.T, s *storage.Store)
}{
	{"Policies", testPolicies},
	{"PolicyLevels", testPolicyLevels},
	{"PatchPolicy", testPatchPolicy},
	{"ConcurrentPatchPolicy", testConcurrentPatchPolicy},
	{"GlobalNotBefore", testGlobalNotBefore},
	{"SessionClients", testSessionClients},
	{"ConcurrentAddSessionClient", testConcurrentAddSessionClient},
	{"RevokeUserMark", testRevokeUserMark},
	{"RotateSession", testRotateSession},
	{"RotateSessionRefused", testRotateSessionRefused},
	{"ConcurrentRotateSession", testConcurrentRotateSession},
	{"ConcurrentRotateAndRevokeSession", testConcurrentRotateAndRevokeSession},
}

func ptr[T any](v T) *T { return &v }

func newPolicy(scope, target string, at time.Time) *storage.Policy {
	return &storage.Policy{ID: newID(), Scope: scope, TargetID: target, CreatedAt: at, UpdatedAt: at}
}

func testPolicies(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	_, err := s.PolicyFor(ctx, storage.ScopeGlobal, "")
	wantErr(t, "PolicyFor with none", err, storage.ErrNotFound)
	if list, err := s.Policies(ctx); err != nil || len(list) != 0 {
		t.Fatalf("Policies on an empty store = %v, %v", list, err)
	}

	full := newPolicy(storage.ScopeGlobal, "", at)
	full.SecondFactor = "optional"
	full.AllowedMethods = storage.MethodList{"sms", "totp"}
	full.SMSFallback = ptr(true)
	full.CodeDigits = ptr(6)
	full.CodeTTLSeconds = ptr(int64(300))
	full.MaxAttempts = ptr(5)
	full.ResendCooldownSeconds = ptr(int64(30))
	full.MaxResends = ptr(3)
	full.SessionLifetimeSeconds = ptr(int64(86400))
	full.IdleTimeoutSeconds = ptr(int64(3600))
	full.RememberDeviceSeconds = ptr(int64(0))
	full.ExemptAPIAccounts = ptr(false)
	ok(t, "PutPolicy", s.PutPolicy(ctx, full))
	got, err := s.PolicyFor(ctx, storage.ScopeGlobal, "")
	ok(t, "PolicyFor", err)
	samePolicy(t, "PolicyFor after the first put", got, full)
	sameTime(t, s, "CreatedAt", got.CreatedAt, at)
	sameTime(t, s, "UpdatedAt", got.UpdatedAt, at)

	// A second put on the same level replaces every field, nulls included;
	// the level keeps one row.
	later := at.Add(time.Minute)
	sparse := newPolicy(storage.ScopeGlobal, "", later)
	sparse.SecondFactor = "required"
	sparse.CodeDigits = ptr(8)
	sparse.SMSFallback = ptr(false)
	ok(t, "PutPolicy again", s.PutPolicy(ctx, sparse))
	got, err = s.PolicyFor(ctx, storage.ScopeGlobal, "")
	ok(t, "PolicyFor", err)
	samePolicy(t, "PolicyFor after the second put", got, sparse)
	sameTime(t, s, "UpdatedAt after the second put", got.UpdatedAt, later)
	sameTime(t, s, "CreatedAt after the second put", got.CreatedAt, at)
	list, err := s.Policies(ctx)
	ok(t, "Policies", err)
	if len(list) != 1 {
		t.Fatalf("Policies after two puts on one level = %d rows, want 1", len(list))
	}

	// Levels are distinct by scope and target.
	for _, p := range []*storage.Policy{
		newPolicy(storage.ScopeUser, "u1", at),
		newPolicy(storage.ScopeClient, "web", at),
		newPolicy(storage.ScopeClient, "app", at),
		newPolicy(storage.ScopeUser, "app", at),
	} {
		p.SecondFactor = "off"
		ok(t, "PutPolicy "+p.Scope+"/"+p.TargetID, s.PutPolicy(ctx, p))
	}
	list, err = s.Policies(ctx)
	ok(t, "Policies", err)
	if got, want := policyLevels(list), []string{"client/app", "client/web", "global/", "user/app", "user/u1"}; !slices.Equal(got, want) {
		t.Errorf("Policies = %v, want %v (by scope, then target)", got, want)
	}
	_, err = s.PolicyFor(ctx, storage.ScopeClient, "u1")
	wantErr(t, "PolicyFor of a target set at another scope", err, storage.ErrNotFound)

	ok(t, "DeletePolicy", s.DeletePolicy(ctx, storage.ScopeClient, "app"))
	_, err = s.PolicyFor(ctx, storage.ScopeClient, "app")
	wantErr(t, "PolicyFor after delete", err, storage.ErrNotFound)
	if _, err := s.PolicyFor(ctx, storage.ScopeUser, "app"); err != nil {
		t.Errorf("DeletePolicy removed the user policy of the same target: %v", err)
	}
	wantErr(t, "DeletePolicy again", s.DeletePolicy(ctx, storage.ScopeClient, "app"), storage.ErrNotFound)
	wantErr(t, "DeletePolicy unknown", s.DeletePolicy(ctx, storage.ScopeUser, "nobody"), storage.ErrNotFound)
	list, err = s.Policies(ctx)
	ok(t, "Policies", err)
	if got, want := policyLevels(list), []string{"client/web", "global/", "user/app", "user/u1"}; !slices.Equal(got, want) {
		t.Errorf("Policies after delete = %v, want %v", got, want)
	}

	// A deleted level can be set again.
	ok(t, "PutPolicy after delete", s.PutPolicy(ctx, newPolicy(storage.ScopeClient, "app", later)))
	if _, err := s.PolicyFor(ctx, storage.ScopeClient, "app"); err != nil {
		t.Errorf("PolicyFor after re-put: %v", err)
	}
}

// testPatchPolicy: a patch changes the settings it names, to a value or
// back to inherit, and keeps the others; on a level with no policy it
// makes one with those settings alone.
func testPatchPolicy(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	first := newPolicy(storage.ScopeClient, "payroll", at)
	first.AllowedMethods = storage.MethodList{"sms", "totp"}
	first.CodeDigits = ptr(8) // not named: must not be stored
	ok(t, "PatchPolicy on a new level", s.PatchPolicy(ctx, first, []string{"allowed_methods"}))
	got, err := s.PolicyFor(ctx, storage.ScopeClient, "payroll")
	ok(t, "PolicyFor", err)
	want := newPolicy(storage.ScopeClient, "payroll", at)
	want.AllowedMethods = first.AllowedMethods
	samePolicy(t, "after the first patch", got, want)

	later := at.Add(time.Minute)
	second := newPolicy(storage.ScopeClient, "payroll", later)
	second.SecondFactor, second.CodeTTLSeconds = "required", ptr(int64(120))
	ok(t, "PatchPolicy of two other settings", s.PatchPolicy(ctx, second, []string{"second_factor", "code_ttl"}))
	got, err = s.PolicyFor(ctx, storage.ScopeClient, "payroll")
	ok(t, "PolicyFor", err)
	want.SecondFactor, want.CodeTTLSeconds = "required", ptr(int64(120))
	samePolicy(t, "after the second patch", got, want)
	sameTime(t, s, "UpdatedAt after a patch", got.UpdatedAt, later)
	sameTime(t, s, "CreatedAt after a patch", got.CreatedAt, at)

	// Named with no value: inherit again.
	ok(t, "PatchPolicy to inherit", s.PatchPolicy(ctx, newPolicy(storage.ScopeClient, "payroll", later), []string{"allowed_methods", "code_ttl"}))
	got, err = s.PolicyFor(ctx, storage.ScopeClient, "payroll")
	ok(t, "PolicyFor", err)
	want.AllowedMethods, want.CodeTTLSeconds = nil, nil
	samePolicy(t, "after inheriting two settings", got, want)
	if list, err := s.Policies(ctx); err != nil || len(list) != 1 {
		t.Errorf("Policies after three patches of one level = %d rows, %v; want 1", len(list), err)
	}
	if err := s.PatchPolicy(ctx, newPolicy(storage.ScopeGlobal, "", at), []string{"colour"}); err == nil {
		t.Error("PatchPolicy of an unknown setting succeeded")
	}
}

// testConcurrentPatchPolicy: patches of different settings of one level,
// at once, all hold, even when the level had no policy before.
func testConcurrentPatchPolicy(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	patches := []struct {
		field string
		set   func(p *storage.Policy)
	}{
		{"second_factor", func(p *storage.Policy) { p.SecondFactor = "required" }},
		{"allowed_methods", func(p *storage.Policy) { p.AllowedMethods = storage.MethodList{"totp"} }},
		{"sms_fallback", func(p *storage.Policy) { p.SMSFallback = ptr(false) }},
		{"code_digits", func(p *storage.Policy) { p.CodeDigits = ptr(7) }},
		{"code_ttl", func(p *storage.Policy) { p.CodeTTLSeconds = ptr(int64(60)) }},
		{"max_attempts", func(p *storage.Policy) { p.MaxAttempts = ptr(2) }},
		{"resend_cooldown", func(p *storage.Policy) { p.ResendCooldownSeconds = ptr(int64(10)) }},
		{"max_resends", func(p *storage.Policy) { p.MaxResends = ptr(1) }},
		{"session_lifetime", func(p *storage.Policy) { p.SessionLifetimeSeconds = ptr(int64(3600)) }},
		{"idle_timeout", func(p *storage.Policy) { p.IdleTimeoutSeconds = ptr(int64(600)) }},
		{"remember_device", func(p *storage.Policy) { p.RememberDeviceSeconds = ptr(int64(7200)) }},
		{"exempt_api_accounts", func(p *storage.Policy) { p.ExemptAPIAccounts = ptr(false) }},
	}
	want := newPolicy(storage.ScopeGlobal, "", at)
	start := make(chan struct{})
	errs := make([]error, len(patches))
	var wg sync.WaitGroup
	for i, pt := range patches {
		pt.set(want)
		wg.Go(func() {
			p := newPolicy(storage.ScopeGlobal, "", at)
			pt.set(p)
			<-start
			errs[i] = s.PatchPolicy(ctx, p, []string{pt.field})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("PatchPolicy %s: %v", patches[i].field, err)
		}
	}
	got, err := s.PolicyFor(ctx, storage.ScopeGlobal, "")
	ok(t, "PolicyFor", err)
	samePolicy(t, "after concurrent patches of every setting", got, want)
}

// samePolicy compares the settings of two policies (not ids or times).
func samePolicy(t *testing.T, what string, got, want *storage.Policy) {
	t.Helper()
	if got.Scope != want.Scope || got.TargetID != want.TargetID || got.SecondFactor != want.SecondFactor ||
		!slices.Equal(got.AllowedMethods, want.AllowedMethods) ||
		!samePtr(got.SMSFallback, want.SMSFallback) || !samePtr(got.CodeDigits, want.CodeDigits) ||
		!samePtr(got.CodeTTLSeconds, want.CodeTTLSeconds) || !samePtr(got.MaxAttempts, want.MaxAttempts) ||
		!samePtr(got.ResendCooldownSeconds, want.ResendCooldownSeconds) || !samePtr(got.MaxResends, want.MaxResends) ||
		!samePtr(got.SessionLifetimeSeconds, want.SessionLifetimeSeconds) ||
		!samePtr(got.IdleTimeoutSeconds, want.IdleTimeoutSeconds) ||
		!samePtr(got.RememberDeviceSeconds, want.RememberDeviceSeconds) ||
		!samePtr(got.ExemptAPIAccounts, want.ExemptAPIAccounts) {
		t.Errorf("%s:\n got  %s\n want %s", what, policyString(got), policyString(want))
	}
}

func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func policyString(p *storage.Policy) string {
	show := func(v any) string {
		switch v := v.(type) {
		case *bool:
			if v != nil {
				return fmt.Sprint(*v)
			}
		case *int:
			if v != nil {
				return fmt.Sprint(*v)
			}
		case *int64:
			if v != nil {
				return fmt.Sprint(*v)
			}
		}
		return "nil"
	}
	return fmt.Sprint(p.Scope) + "/" + p.TargetID + " second_factor=" + p.SecondFactor +
		" methods=" + fmt.Sprint(p.AllowedMethods) + " sms_fallback=" + show(p.SMSFallback) +
		" digits=" + show(p.CodeDigits) + " ttl=" + show(p.CodeTTLSeconds) + " attempts=" + show(p.MaxAttempts) +
		" cooldown=" + show(p.ResendCooldownSeconds) + " resends=" + show(p.MaxResends) +
		" lifetime=" + show(p.SessionLifetimeSeconds) + " idle=" + show(p.IdleTimeoutSeconds) +
		" remember=" + show(p.RememberDeviceSeconds) + " exempt_api=" + show(p.ExemptAPIAccounts)
}

func policyLevels(list []storage.Policy) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.Scope + "/" + p.TargetID
	}
	return out
}

func testPolicyLevels(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	g, c, u, err := s.PolicyLevels(ctx, "app", "u1")
	if err != nil || g != nil || c != nil || u != nil {
		t.Fatalf("PolicyLevels on an empty store = %v, %v, %v, %v", g, c, u, err)
	}
	put := func(scope, target string, digits int) {
		p := newPolicy(scope, target, at)
		p.CodeDigits = ptr(digits)
		ok(t, "PutPolicy "+scope+"/"+target, s.PutPolicy(ctx, p))
	}
	put(storage.ScopeGlobal, "", 6)
	put(storage.ScopeClient, "app", 7)
	put(storage.ScopeUser, "u1", 8)
	// Decoys: other targets, and each target id at the other scope.
	put(storage.ScopeClient, "web", 1)
	put(storage.ScopeUser, "u2", 2)
	put(storage.ScopeClient, "u1", 3)
	put(storage.ScopeUser, "app", 4)
	put(storage.ScopeGlobal, "app", 5)

	check := func(what string, p *storage.Policy, scope, target string, digits int) {
		t.Helper()
		switch {
		case p == nil:
			t.Errorf("%s policy = nil, want %s/%s", what, scope, target)
		case p.Scope != scope || p.TargetID != target || p.CodeDigits == nil || *p.CodeDigits != digits:
			t.Errorf("%s policy = %s, want %s/%s with %d digits", what, policyString(p), scope, target, digits)
		}
	}
	g, c, u, err = s.PolicyLevels(ctx, "app", "u1")
	ok(t, "PolicyLevels", err)
	check("global", g, storage.ScopeGlobal, "", 6)
	check("client", c, storage.ScopeClient, "app", 7)
	check("user", u, storage.ScopeUser, "u1", 8)

	g, c, u, err = s.PolicyLevels(ctx, "other-app", "nobody")
	ok(t, "PolicyLevels unknown targets", err)
	check("global", g, storage.ScopeGlobal, "", 6)
	if c != nil || u != nil {
		t.Errorf("PolicyLevels of unknown targets: client %v, user %v; want nil", c, u)
	}

	ok(t, "DeletePolicy global", s.DeletePolicy(ctx, storage.ScopeGlobal, ""))
	g, c, u, err = s.PolicyLevels(ctx, "web", "u2")
	ok(t, "PolicyLevels", err)
	if g != nil {
		t.Errorf("global policy after delete = %s", policyString(g))
	}
	check("client", c, storage.ScopeClient, "web", 1)
	check("user", u, storage.ScopeUser, "u2", 2)
}

func testGlobalNotBefore(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	got, err := s.GlobalNotBefore(ctx)
	ok(t, "GlobalNotBefore unset", err)
	if !got.IsZero() {
		t.Errorf("GlobalNotBefore unset = %v, want zero", got)
	}

	// The mark keeps nanoseconds on both dialects, whatever the caller's zone.
	t1 := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("east", 14*3600))
	ok(t, "RevokeAll", s.RevokeAll(ctx, t1))
	got, err = s.GlobalNotBefore(ctx)
	ok(t, "GlobalNotBefore", err)
	if !got.Equal(t1) {
		t.Errorf("GlobalNotBefore = %v, want %v exactly", got, t1)
	}

	t2 := now()
	ok(t, "RevokeAll again", s.RevokeAll(ctx, t2))
	got, err = s.GlobalNotBefore(ctx)
	ok(t, "GlobalNotBefore", err)
	if !got.Equal(t2) {
		t.Errorf("GlobalNotBefore after a second RevokeAll = %v, want %v", got, t2)
	}
}

func newSession(user string, at time.Time, ttl time.Duration) *storage.Session {
	return &storage.Session{
		ID: newID(), UserID: user, AuthTime: at, AMR: storage.StringList{"pwd"}, ACR: "1",
		CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(ttl),
	}
}

func testSessionClients(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	sess := newSession("u1", at, time.Hour)
	sess.MFAAt = &at
	ok(t, "CreateSession", s.CreateSession(ctx, sess))
	other := newSession("u1", at, time.Hour)
	ok(t, "CreateSession", s.CreateSession(ctx, other))

	got, err := s.Session(ctx, sess.ID)
	ok(t, "Session", err)
	if got.UserID != "u1" || got.ACR != "1" || !slices.Equal(got.AMR, sess.AMR) || len(got.Clients) != 0 || got.RevokedAt != nil {
		t.Errorf("Session = %+v, want %+v", got, sess)
	}
	sameTimePtr(t, s, "MFAAt", got.MFAAt, at)
	_, err = s.Session(ctx, "nope")
	wantErr(t, "Session unknown", err, storage.ErrNotFound)

	for _, c := range []string{"app", "app", "web", "app"} {
		ok(t, "AddSessionClient "+c, s.AddSessionClient(ctx, sess.ID, c))
	}
	got, err = s.Session(ctx, sess.ID)
	ok(t, "Session", err)
	if !slices.Equal(got.Clients, []string{"app", "web"}) {
		t.Errorf("Clients = %q, want [app web] (each once, in order)", got.Clients)
	}
	if got, _ := s.Session(ctx, other.ID); got == nil || len(got.Clients) != 0 {
		t.Errorf("AddSessionClient touched another session: %+v", got)
	}
	wantErr(t, "AddSessionClient unknown session", s.AddSessionClient(ctx, "nope", "app"), storage.ErrNotFound)

	// Session loads a session in any state: revoked and expired ones too.
	ok(t, "RevokeSession", s.RevokeSession(ctx, sess.ID, at))
	got, err = s.Session(ctx, sess.ID)
	ok(t, "Session revoked", err)
	sameTimePtr(t, s, "RevokedAt", got.RevokedAt, at)
	if !slices.Equal(got.Clients, []string{"app", "web"}) {
		t.Errorf("Clients of a revoked session = %q", got.Clients)
	}
	expired := newSession("u1", at.Add(-2*time.Hour), time.Hour)
	ok(t, "CreateSession", s.CreateSession(ctx, expired))
	if _, err := s.Session(ctx, expired.ID); err != nil {
		t.Errorf("Session expired: %v", err)
	}
}

// testConcurrentAddSessionClient: clients signing in through one session at
// once must all be recorded, or back-channel logout misses one.
func testConcurrentAddSessionClient(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	sess := newSession("u1", at, time.Hour)
	ok(t, "CreateSession", s.CreateSession(ctx, sess))
	const n = 10
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.AddSessionClient(ctx, sess.ID, "client-"+string(rune('a'+i)))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("AddSessionClient %d: %v", i, err)
		}
	}
	got, err := s.Session(ctx, sess.ID)
	ok(t, "Session", err)
	if len(got.Clients) != n {
		t.Errorf("%d concurrent AddSessionClient recorded %d clients: %q", n, len(got.Clients), got.Clients)
	}
}

func testRevokeUserMark(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	for _, id := range []string{"u1", "u2"} {
		ok(t, "CreateUser", s.CreateUser(ctx, &storage.User{ID: id, Username: id}))
	}
	if u, err := s.User(ctx, "u1"); err != nil || u.SessionsNotBefore != nil {
		t.Fatalf("new user: %+v, %v; want no sessions_not_before", u, err)
	}
	ok(t, "RevokeUser", s.RevokeUser(ctx, "u1", at))
	u, err := s.User(ctx, "u1")
	ok(t, "User", err)
	sameTimePtr(t, s, "SessionsNotBefore", u.SessionsNotBefore, at)
	if u, err := s.User(ctx, "u2"); err != nil || u.SessionsNotBefore != nil {
		t.Errorf("RevokeUser set another user's mark: %+v, %v", u, err)
	}
	later := at.Add(time.Hour)
	ok(t, "RevokeUser again", s.RevokeUser(ctx, "u1", later))
	u, err = s.User(ctx, "u1")
	ok(t, "User", err)
	sameTimePtr(t, s, "SessionsNotBefore after a second RevokeUser", u.SessionsNotBefore, later)
}

func testRotateSession(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	old := newSession("u1", at.Add(-time.Hour), 24*time.Hour)
	old.Clients = storage.StringList{"app", "wiki"}
	ok(t, "CreateSession", s.CreateSession(ctx, old))
	bystander := newSession("u1", at, time.Hour)
	bystander.Clients = storage.StringList{"mail"}
	ok(t, "CreateSession", s.CreateSession(ctx, bystander))
	a1, r1 := newAccessToken(at, "app", "f1", old.ID), newRefreshToken(at, "app", "f1", old.ID)
	a2, r2 := newAccessToken(at, "mail", "f2", bystander.ID), newRefreshToken(at, "mail", "f2", bystander.ID)
	for _, a := range []*storage.AccessToken{a1, a2} {
		ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a))
	}
	for _, r := range []*storage.RefreshToken{r1, r2} {
		ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r))
	}

	next := newSession("u1", at, 24*time.Hour)
	next.Clients = storage.StringList{"wiki", "web"}
	ok(t, "RotateSession", s.RotateSession(ctx, old.ID, next, at))

	got, err := s.ActiveSession(ctx, next.ID, at)
	ok(t, "ActiveSession new", err)
	if prev, err := s.Session(ctx, old.ID); err != nil || got.SID == "" || got.SID != prev.SID {
		t.Errorf("the public sid changed across rotation: %q, was %+v (%v)", got.SID, prev, err)
	}
	if !slices.Equal(got.Clients, []string{"wiki", "web", "app"}) {
		t.Errorf("new session's Clients = %q, want [wiki web app] (its own, then the old one's, each once)", got.Clients)
	}
	_, err = s.ActiveSession(ctx, old.ID, at)
	wantErr(t, "ActiveSession old", err, storage.ErrNotFound)
	if got, err := s.Session(ctx, old.ID); err != nil {
		t.Errorf("Session old: %v", err)
	} else {
		sameTimePtr(t, s, "old RevokedAt", got.RevokedAt, at)
	}

	// The old session's tokens now hang on the new one, still valid.
	if a, err := s.ActiveAccessToken(ctx, a1.ID, at); err != nil || a.SessionID != next.ID {
		t.Errorf("moved access token: %+v, %v; want active under %s", a, err, next.ID)
	}
	if r, err := s.RefreshTokenByHash(ctx, r1.TokenHash); err != nil || r.SessionID != next.ID || r.RevokedAt != nil || r.UsedAt != nil {
		t.Errorf("moved refresh token: %+v, %v; want live under %s", r, err, next.ID)
	}
	if a, err := s.ActiveAccessToken(ctx, a2.ID, at); err != nil || a.SessionID != bystander.ID {
		t.Errorf("another session's access token: %+v, %v", a, err)
	}
	if r, err := s.RefreshTokenByHash(ctx, r2.TokenHash); err != nil || r.SessionID != bystander.ID {
		t.Errorf("another session's refresh token: %+v, %v", r, err)
	}
	if got, err := s.ActiveSession(ctx, bystander.ID, at); err != nil || !slices.Equal(got.Clients, []string{"mail"}) {
		t.Errorf("another session after RotateSession: %+v, %v", got, err)
	}

	// A logout of the new session reaches what was issued under the old.
	ok(t, "RevokeSession new", s.RevokeSession(ctx, next.ID, at))
	if accessActive(t, s, a1.ID, at) || !refreshRevoked(t, s, r1.TokenHash) {
		t.Error("ending the rotated session left the moved tokens active")
	}
	if !accessActive(t, s, a2.ID, at) || refreshRevoked(t, s, r2.TokenHash) {
		t.Error("ending the rotated session revoked another session's tokens")
	}
}

// testRotateSessionRefused: a session of another user, a revoked or an
// expired one is not rotated, and the refused call stores nothing.
func testRotateSessionRefused(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	theirs := newSession("u2", at, time.Hour)
	revoked := newSession("u1", at, time.Hour)
	expired := newSession("u1", at.Add(-time.Hour), time.Hour) // expires at `at`
	for _, sess := range []*storage.Session{theirs, revoked, expired} {
		sess.Clients = storage.StringList{"app"}
		ok(t, "CreateSession", s.CreateSession(ctx, sess))
	}
	ok(t, "RevokeSession", s.RevokeSession(ctx, revoked.ID, at))
	tokens := map[string]*storage.AccessToken{}
	for _, sess := range []*storage.Session{theirs, revoked, expired} {
		a := newAccessToken(at.Add(-time.Minute), "app", newID(), sess.ID)
		ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a))
		tokens[sess.ID] = a
	}

	for _, tc := range []struct {
		name string
		old  string
	}{
		{"another user's", theirs.ID},
		{"revoked", revoked.ID},
		{"expired", expired.ID},
		{"unknown", "nope"},
	} {
		next := newSession("u1", at, time.Hour)
		wantErr(t, "RotateSession of a "+tc.name+" session", s.RotateSession(ctx, tc.old, next, at), storage.ErrNotFound)
		if _, err := s.Session(ctx, next.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("RotateSession of a %s session stored the new one (Session err = %v)", tc.name, err)
		}
		if a, ok := tokens[tc.old]; ok {
			got, err := s.ActiveAccessToken(ctx, a.ID, at.Add(-time.Minute))
			if err == nil && got.SessionID != tc.old {
				t.Errorf("RotateSession of a %s session moved its token to %s", tc.name, got.SessionID)
			}
		}
	}
	if _, err := s.ActiveSession(ctx, theirs.ID, at); err != nil {
		t.Errorf("refused RotateSession ended another user's session: %v", err)
	}
	if got, err := s.Session(ctx, expired.ID); err != nil || got.RevokedAt != nil {
		t.Errorf("refused RotateSession revoked the expired session: %+v, %v", got, err)
	}
}

// testConcurrentRotateSession: one old session is rotated once; every other
// concurrent rotation finds it gone and stores nothing, so the tokens and
// clients cannot end up split over several live sessions.
func testConcurrentRotateSession(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	old := newSession("u1", at, time.Hour)
	old.Clients = storage.StringList{"app"}
	ok(t, "CreateSession", s.CreateSession(ctx, old))
	a := newAccessToken(at, "app", "f1", old.ID)
	ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a))
	next := make([]*storage.Session, racers)
	for i := range next {
		next[i] = newSession("u1", at, time.Hour)
	}
	start := make(chan struct{})
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = s.RotateSession(ctx, old.ID, next[i], at)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("goroutines %d and %d both rotated the session", winner, i)
			}
			winner = i
		case !errors.Is(err, storage.ErrNotFound):
			t.Errorf("goroutine %d: want nil or ErrNotFound, got %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no goroutine rotated the session")
	}
	for i, n := range next {
		_, err := s.Session(ctx, n.ID)
		if stored := err == nil; stored != (i == winner) {
			t.Errorf("goroutine %d (winner %d): new session stored = %v (err %v)", i, winner, stored, err)
		}
	}
	if got, err := s.ActiveAccessToken(ctx, a.ID, at); err != nil || got.SessionID != next[winner].ID {
		t.Errorf("token after concurrent rotations: %+v, %v; want it under the winner's session", got, err)
	}
}

// testConcurrentRotateAndRevokeSession: a logout racing sign-ins on the same
// session neither deadlocks nor fails; either the rotation won and the
// tokens live on under the new session, or the logout won and they are
// revoked.
func testConcurrentRotateAndRevokeSession(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	old := newSession("u1", at, time.Hour)
	ok(t, "CreateSession", s.CreateSession(ctx, old))
	a := newAccessToken(at, "app", "f1", old.ID)
	ok(t, "CreateAccessToken", s.CreateAccessToken(ctx, a))
	r := newRefreshToken(at, "app", "f1", old.ID)
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r))
	next := make([]*storage.Session, racers)
	for i := range next {
		next[i] = newSession("u1", at, time.Hour)
	}
	start := make(chan struct{})
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			if i%2 == 0 {
				errs[i] = s.RevokeSession(ctx, old.ID, at)
			} else {
				errs[i] = s.RotateSession(ctx, old.ID, next[i], at)
			}
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && i%2 == 1:
			if winner >= 0 {
				t.Errorf("goroutines %d and %d both rotated the session", winner, i)
			}
			winner = i
		case err != nil && (i%2 == 0 || !errors.Is(err, storage.ErrNotFound)):
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if _, err := s.ActiveSession(ctx, old.ID, at); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("old session still active: %v", err)
	}
	if winner < 0 {
		if accessActive(t, s, a.ID, at) || !refreshRevoked(t, s, r.TokenHash) {
			t.Error("the logout won but left the session's tokens active")
		}
		return
	}
	if got, err := s.ActiveAccessToken(ctx, a.ID, at); err != nil || got.SessionID != next[winner].ID {
		t.Errorf("rotation %d won, but the access token is %+v, %v", winner, got, err)
	}
	if got, err := s.RefreshTokenByHash(ctx, r.TokenHash); err != nil || got.SessionID != next[winner].ID || got.RevokedAt != nil {
		t.Errorf("rotation %d won, but the refresh token is %+v, %v", winner, got, err)
	}
}
