package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// factorTests are the second-factor and challenge topics; Run registers them.
var factorTests = []struct {
	name string
	fn   func(t *testing.T, s *storage.Store)
}{
	{"SecondFactors", testSecondFactors},
	{"ReplaceSecondFactorsVerifiesContact", testReplaceVerifiesContact},
	{"SetPendingUser", testSetPendingUser},
	{"Challenges", testChallenges},
	{"LatestChallengeSameCreatedAt", testLatestChallengeTie},
	{"SpendAttempt", testSpendAttempt},
	{"ConcurrentSpendAttempt", testConcurrentSpendAttempt},
	{"SpendLatestAttempt", testSpendLatestAttempt},
	{"ConcurrentSpendLatestAttempt", testConcurrentSpendLatestAttempt},
	{"ConcurrentUseChallenge", testConcurrentUseChallenge},
}

func testSecondFactors(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	if list, err := s.SecondFactors(ctx, "u1"); err != nil || len(list) != 0 {
		t.Fatalf("SecondFactors with none enrolled = %v, %v", list, err)
	}
	verified := at
	totp := &storage.SecondFactor{
		ID: newID(), UserID: "u1", Method: "totp", Secret: []byte{0, 1, 2, 0xff}, LastStep: 42,
		VerifiedAt: &verified, CreatedAt: at,
	}
	// Any method may be stored this way; only code-based ones are replaced later.
	ok(t, "ReplaceSecondFactors totp", s.ReplaceSecondFactors(ctx, "u1", []storage.SecondFactor{*totp}))

	// The preferred method comes first even though it is the newest; the
	// rest follow by age.
	ok(t, "ReplaceSecondFactors", s.ReplaceSecondFactors(ctx, "u1", []storage.SecondFactor{
		{ID: newID(), UserID: "u1", Method: "email", Destination: "u1@example.com", VerifiedAt: &verified, CreatedAt: at.Add(time.Second)},
		{ID: newID(), UserID: "u1", Method: "sms", Destination: "+15550100", Preferred: true, VerifiedAt: &verified, CreatedAt: at.Add(2 * time.Second)},
	}))
	ok(t, "ReplaceSecondFactors u2", s.ReplaceSecondFactors(ctx, "u2", []storage.SecondFactor{
		{ID: newID(), UserID: "u2", Method: "voice", Destination: "+15550199", CreatedAt: at},
	}))
	list, err := s.SecondFactors(ctx, "u1")
	ok(t, "SecondFactors", err)
	if got := factorMethods(list); !slices.Equal(got, []string{"sms", "totp", "email"}) {
		t.Fatalf("SecondFactors = %v, want [sms totp email] (preferred first, then by age)", got)
	}
	if f := list[1]; f.ID != totp.ID || !slices.Equal(f.Secret, totp.Secret) || f.LastStep != 42 || f.Preferred {
		t.Errorf("totp read back as %+v", f)
	}
	if f := list[0]; f.Destination != "+15550100" || !f.Preferred {
		t.Errorf("sms read back as %+v", f)
	}
	sameTimePtr(t, s, "VerifiedAt", list[0].VerifiedAt, verified)
	sameTime(t, s, "CreatedAt", list[2].CreatedAt, at.Add(time.Second))

	// Replacing the code-based methods drops sms and email, keeps totp, and
	// leaves other users alone.
	voice := storage.SecondFactor{ID: newID(), UserID: "u1", Method: "voice", Destination: "+15550101", CreatedAt: at.Add(3 * time.Second)}
	ok(t, "ReplaceSecondFactors again", s.ReplaceSecondFactors(ctx, "u1", []storage.SecondFactor{voice}))
	list, err = s.SecondFactors(ctx, "u1")
	ok(t, "SecondFactors", err)
	if got := factorMethods(list); !slices.Equal(got, []string{"totp", "voice"}) {
		t.Errorf("after ReplaceSecondFactors: %v, want [totp voice]", got)
	}
	if len(list) == 2 && (list[0].ID != totp.ID || list[1].Destination != "+15550101") {
		t.Errorf("after ReplaceSecondFactors: %+v", list)
	}
	ok(t, "ReplaceSecondFactors with none", s.ReplaceSecondFactors(ctx, "u1", nil))
	list, err = s.SecondFactors(ctx, "u1")
	ok(t, "SecondFactors", err)
	if got := factorMethods(list); !slices.Equal(got, []string{"totp"}) {
		t.Errorf("after ReplaceSecondFactors(nil): %v, want [totp]", got)
	}
	list, err = s.SecondFactors(ctx, "u2")
	ok(t, "SecondFactors u2", err)
	if got := factorMethods(list); !slices.Equal(got, []string{"voice"}) {
		t.Errorf("u2's factors after replacing u1's: %v, want [voice]", got)
	}

	// A replacement that cannot be stored changes nothing.
	dup := []storage.SecondFactor{
		{ID: newID(), UserID: "u2", Method: "sms", Destination: "+15550102", CreatedAt: at},
		{ID: newID(), UserID: "u2", Method: "sms", Destination: "+15550103", CreatedAt: at},
	}
	if err := s.ReplaceSecondFactors(ctx, "u2", dup); err == nil {
		t.Error("ReplaceSecondFactors with the same method twice succeeded")
	}
	list, err = s.SecondFactors(ctx, "u2")
	ok(t, "SecondFactors u2", err)
	if got := factorMethods(list); !slices.Equal(got, []string{"voice"}) {
		t.Errorf("u2's factors after a failed replacement: %v, want [voice]", got)
	}
}

// An admin's verified factor vouches for the destination it uses: the
// user's phone or email becomes verified with it; an unverified factor, or
// one for another destination, vouches for nothing.
func testReplaceVerifiesContact(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	u := &storage.User{ID: newID(), Username: "carol", Phone: "+15550100", Email: "carol@example.com", CreatedAt: at, UpdatedAt: at}
	ok(t, "CreateUser", s.CreateUser(ctx, u))
	ok(t, "ReplaceSecondFactors unverified", s.ReplaceSecondFactors(ctx, u.ID, []storage.SecondFactor{
		{ID: newID(), UserID: u.ID, Method: "sms", Destination: u.Phone, CreatedAt: at},
		{ID: newID(), UserID: u.ID, Method: "email", Destination: "other@example.com", VerifiedAt: &at, CreatedAt: at},
	}))
	got, err := s.User(ctx, u.ID)
	ok(t, "User", err)
	if got.PhoneVerified || got.EmailVerified {
		t.Fatalf("verified without a verified factor for the destination: phone %v, email %v", got.PhoneVerified, got.EmailVerified)
	}
	ok(t, "ReplaceSecondFactors verified", s.ReplaceSecondFactors(ctx, u.ID, []storage.SecondFactor{
		{ID: newID(), UserID: u.ID, Method: "voice", Destination: u.Phone, VerifiedAt: &at, CreatedAt: at},
		{ID: newID(), UserID: u.ID, Method: "email", Destination: u.Email, VerifiedAt: &at, CreatedAt: at},
	}))
	got, err = s.User(ctx, u.ID)
	ok(t, "User", err)
	if !got.PhoneVerified || !got.EmailVerified {
		t.Fatalf("after verified factors: phone_verified %v, email_verified %v, want both true", got.PhoneVerified, got.EmailVerified)
	}
}

func factorMethods(list []storage.SecondFactor) []string {
	out := make([]string, len(list))
	for i, f := range list {
		out[i] = string(f.Method)
	}
	return out
}

func testSetPendingUser(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	a := newAuthRequest(at)
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
	ok(t, "SetPendingUser", s.SetPendingUser(ctx, a.ID, "u1"))
	got, err := s.AuthRequest(ctx, a.ID, at)
	ok(t, "AuthRequest", err)
	if got.PendingUserID != "u1" || got.DoneAt != nil || got.UserID != "" {
		t.Errorf("after SetPendingUser: pending %q, done %v, user %q", got.PendingUserID, got.DoneAt, got.UserID)
	}
	// Another password step of the same request may replace it.
	ok(t, "SetPendingUser again", s.SetPendingUser(ctx, a.ID, "u2"))
	ok(t, "SetPendingUser same", s.SetPendingUser(ctx, a.ID, "u2"))

	ok(t, "CompleteAuthRequest", s.CompleteAuthRequest(ctx, a.ID, storage.Completion{UserID: "u2", SessionID: "s1", AuthTime: at}, at))
	wantErr(t, "SetPendingUser on a done request", s.SetPendingUser(ctx, a.ID, "u3"), storage.ErrAlreadyUsed)
	got, err = s.AuthRequest(ctx, a.ID, at)
	ok(t, "AuthRequest", err)
	if got.PendingUserID != "u2" {
		t.Errorf("PendingUserID = %q after a refused SetPendingUser, want u2", got.PendingUserID)
	}
	wantErr(t, "SetPendingUser unknown", s.SetPendingUser(ctx, "nope", "u1"), storage.ErrAlreadyUsed)
}

func newChallenge(authRequestID string, at time.Time) *storage.Challenge {
	return &storage.Challenge{
		ID: newID(), AuthRequestID: authRequestID, UserID: "u1", Method: "sms", Channel: "sms",
		Destination: "+15550100", CodeHash: newID(), MaxAttempts: 5, CreatedAt: at, ExpiresAt: at.Add(5 * time.Minute),
	}
}

func testChallenges(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	_, err := s.LatestChallenge(ctx, "r1")
	wantErr(t, "LatestChallenge with none", err, storage.ErrNotFound)
	if got, n, err := s.LatestChallengeAndCount(ctx, "r1"); err != nil || got != nil || n != 0 {
		t.Errorf("LatestChallengeAndCount with none = %+v, %d, %v", got, n, err)
	}

	c1 := newChallenge("r1", at)
	ok(t, "CreateFirstChallenge", s.CreateFirstChallenge(ctx, c1))
	other := newChallenge("r2", at)
	ok(t, "CreateChallenge other request", s.CreateChallenge(ctx, other))
	got, err := s.LatestChallenge(ctx, "r1")
	ok(t, "LatestChallenge", err)
	if got.ID != c1.ID || got.UserID != "u1" || got.Method != "sms" || got.Channel != "sms" || got.Destination != "+15550100" ||
		got.CodeHash != c1.CodeHash || got.Attempts != 0 || got.MaxAttempts != 5 || got.UsedAt != nil || got.FallbackFrom != "" {
		t.Errorf("LatestChallenge = %+v, want %+v", got, c1)
	}
	sameTime(t, s, "CreatedAt", got.CreatedAt, c1.CreatedAt)
	sameTime(t, s, "ExpiresAt", got.ExpiresAt, c1.ExpiresAt)

	// A new code ends the request's previous one, and only that request's.
	t2 := at.Add(30 * time.Second)
	c2 := newChallenge("r1", t2)
	ok(t, "CreateChallenge second", s.CreateChallenge(ctx, c2))
	got, err = s.LatestChallenge(ctx, "r1")
	ok(t, "LatestChallenge", err)
	if got.ID != c2.ID || got.UsedAt != nil {
		t.Errorf("LatestChallenge = %s (used %v), want the new live %s", got.ID, got.UsedAt, c2.ID)
	}
	wantErr(t, "SpendAttempt on a replaced challenge", spend(ctx, s, c1.ID, t2), storage.ErrAlreadyUsed)
	wantErr(t, "UseChallenge on a replaced challenge", s.UseChallenge(ctx, c1.ID, t2), storage.ErrAlreadyUsed)
	if got, err := s.LatestChallenge(ctx, "r2"); err != nil || got.ID != other.ID || got.UsedAt != nil {
		t.Errorf("another request's challenge after CreateChallenge: %+v, %v", got, err)
	}
	ok(t, "SpendAttempt other request", spend(ctx, s, other.ID, t2))

	// The latest and the count at once, the attempts as they stand.
	ok(t, "SpendAttempt", spend(ctx, s, c2.ID, t2))
	if got, n, err := s.LatestChallengeAndCount(ctx, "r1"); err != nil || got == nil || got.ID != c2.ID || got.UsedAt != nil ||
		got.CodeHash != c2.CodeHash || got.MaxAttempts != 5 || got.Attempts != 1 || n != 2 {
		t.Errorf("LatestChallengeAndCount(r1) = %+v, %d, %v; want the live %s of 2", got, n, err, c2.ID)
	} else {
		sameTime(t, s, "ExpiresAt", got.ExpiresAt, c2.ExpiresAt)
	}
	if got, n, err := s.LatestChallengeAndCount(ctx, "r2"); err != nil || got == nil || got.ID != other.ID || n != 1 {
		t.Errorf("LatestChallengeAndCount(r2) = %+v, %d, %v; want %s of 1", got, n, err, other.ID)
	}

	// A fallback's delivery is stored with its challenge.
	fb := newChallenge("r4", t2)
	fb.Channel, fb.Destination, fb.FallbackFrom, fb.ProviderID = "email", "alice@example.com", "sms", "<m1@example.com>"
	ok(t, "CreateFirstChallenge after a fallback", s.CreateFirstChallenge(ctx, fb))
	if got, err := s.LatestChallenge(ctx, "r4"); err != nil || got.Method != "sms" || got.Channel != "email" ||
		got.Destination != "alice@example.com" || got.FallbackFrom != "sms" || got.ProviderID != "<m1@example.com>" {
		t.Errorf("a fallback's challenge = %+v, %v", got, err)
	}

	// Used once; when none is live the newest is the latest.
	t3 := t2.Add(10 * time.Second)
	ok(t, "UseChallenge", s.UseChallenge(ctx, c2.ID, t3))
	wantErr(t, "UseChallenge again", s.UseChallenge(ctx, c2.ID, t3), storage.ErrAlreadyUsed)
	wantErr(t, "UseChallenge unknown", s.UseChallenge(ctx, "nope", t3), storage.ErrAlreadyUsed)
	got, err = s.LatestChallenge(ctx, "r1")
	ok(t, "LatestChallenge", err)
	if got.ID != c2.ID {
		t.Errorf("LatestChallenge with none live = %s, want the newest %s", got.ID, c2.ID)
	}
	sameTimePtr(t, s, "UsedAt", got.UsedAt, t3)
}

// testLatestChallengeTie: two challenges of a request can share created_at
// (a resend within the clock's resolution); the live one must win whatever
// the ids, or the user's newest code is refused.
func testLatestChallengeTie(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	for _, order := range []struct{ first, second string }{{"a", "b"}, {"b", "a"}} {
		req := newID()
		c1 := newChallenge(req, at)
		c1.ID = order.first + newID()
		c2 := newChallenge(req, at)
		c2.ID = order.second + newID()
		ok(t, "CreateChallenge", s.CreateChallenge(ctx, c1))
		ok(t, "CreateChallenge same created_at", s.CreateChallenge(ctx, c2))
		got, err := s.LatestChallenge(ctx, req)
		ok(t, "LatestChallenge", err)
		if got.ID != c2.ID || got.UsedAt != nil {
			t.Errorf("ids %s then %s: LatestChallenge = %s (used %v), want the live %s",
				order.first, order.second, got.ID, got.UsedAt, c2.ID)
		}
		ok(t, "SpendAttempt on the live one", spend(ctx, s, got.ID, at))
	}
}

func testSpendAttempt(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	c := newChallenge("r1", at)
	c.MaxAttempts = 3
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, c))
	for i := range 3 {
		n, err := s.SpendAttempt(ctx, c.ID, at)
		ok(t, fmt.Sprintf("SpendAttempt %d", i+1), err)
		if n != i+1 {
			t.Errorf("SpendAttempt %d returned %d attempts, want %d", i+1, n, i+1)
		}
	}
	wantErr(t, "SpendAttempt past max_attempts", spend(ctx, s, c.ID, at), storage.ErrAlreadyUsed)
	got, err := s.LatestChallenge(ctx, "r1")
	ok(t, "LatestChallenge", err)
	if got.Attempts != 3 {
		t.Errorf("Attempts = %d, want 3", got.Attempts)
	}

	// Expiry is strict and is judged by instant.
	e := newChallenge("r2", at)
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, e))
	ok(t, "SpendAttempt just before expiry", spend(ctx, s, e.ID, e.ExpiresAt.Add(-time.Millisecond)))
	wantErr(t, "SpendAttempt at expiry", spend(ctx, s, e.ID, e.ExpiresAt), storage.ErrAlreadyUsed)
	wantErr(t, "SpendAttempt after expiry, asked in UTC+14",
		spend(ctx, s, e.ID, e.ExpiresAt.Add(time.Second).In(time.FixedZone("east", 14*3600))), storage.ErrAlreadyUsed)

	// A used challenge takes no more guesses.
	u := newChallenge("r3", at)
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, u))
	ok(t, "UseChallenge", s.UseChallenge(ctx, u.ID, at))
	wantErr(t, "SpendAttempt after use", spend(ctx, s, u.ID, at), storage.ErrAlreadyUsed)
	wantErr(t, "SpendAttempt unknown", spend(ctx, s, "nope", at), storage.ErrAlreadyUsed)
	got, err = s.LatestChallenge(ctx, "r3")
	ok(t, "LatestChallenge", err)
	if got.Attempts != 0 {
		t.Errorf("Attempts of a used challenge = %d, want 0", got.Attempts)
	}
}

// contend runs fn(i) in racers goroutines released together and returns how
// many succeeded; every failure must be ErrAlreadyUsed.
// spend is SpendAttempt for checks that need only its error.
func spend(ctx context.Context, s *storage.Store, id string, at time.Time) error {
	_, err := s.SpendAttempt(ctx, id, at)
	return err
}

func contend(t *testing.T, fn func(i int) error) int {
	t.Helper()
	start := make(chan struct{})
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrAlreadyUsed):
			t.Errorf("goroutine %d: want nil or ErrAlreadyUsed, got %v", i, err)
		}
	}
	return won
}

func testConcurrentSpendAttempt(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	c := newChallenge("r1", at)
	c.MaxAttempts = 5
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, c))
	counts := make([]int, racers)
	if won := contend(t, func(i int) (err error) { counts[i], err = s.SpendAttempt(ctx, c.ID, at); return err }); won != 5 {
		t.Errorf("%d of %d concurrent guesses counted, want exactly 5 (max_attempts)", won, racers)
	}
	// Each counted guess learns its own count, so the page can say
	// exactly how many remain: 1..5, each once.
	wantPermutation(t, slices.DeleteFunc(counts, func(n int) bool { return n == 0 }), 5)
	got, err := s.LatestChallenge(ctx, "r1")
	ok(t, "LatestChallenge", err)
	if got.Attempts != 5 {
		t.Errorf("Attempts = %d, want 5", got.Attempts)
	}

	// Neither an expired nor a used challenge takes a guess, however many come.
	e := newChallenge("r2", at)
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, e))
	if won := contend(t, func(int) error { return spend(ctx, s, e.ID, e.ExpiresAt) }); won != 0 {
		t.Errorf("%d concurrent guesses counted at expiry, want 0", won)
	}
	u := newChallenge("r3", at)
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, u))
	ok(t, "UseChallenge", s.UseChallenge(ctx, u.ID, at))
	if won := contend(t, func(int) error { return spend(ctx, s, u.ID, at) }); won != 0 {
		t.Errorf("%d concurrent guesses counted after use, want 0", won)
	}
}

// testSpendLatestAttempt: SpendAttempt's rules, on the challenge that
// LatestChallenge names, returned as counted.
func testSpendLatestAttempt(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	_, err := s.SpendLatestAttempt(ctx, "r1", at)
	wantErr(t, "SpendLatestAttempt with no challenge", err, storage.ErrAlreadyUsed)
	old := newChallenge("r1", at)
	ok(t, "CreateFirstChallenge", s.CreateFirstChallenge(ctx, old))
	c := newChallenge("r1", at.Add(time.Second))
	c.MaxAttempts, c.Channel, c.FallbackFrom = 2, "email", "sms"
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, c))
	ok(t, "CreateChallenge other request", s.CreateChallenge(ctx, newChallenge("r2", at)))
	for i := range 2 {
		got, err := s.SpendLatestAttempt(ctx, "r1", at)
		ok(t, fmt.Sprintf("SpendLatestAttempt %d", i+1), err)
		if got.ID != c.ID || got.Attempts != i+1 || got.MaxAttempts != 2 || got.CodeHash != c.CodeHash ||
			got.Channel != "email" || got.FallbackFrom != "sms" || got.UsedAt != nil {
			t.Errorf("SpendLatestAttempt %d = %+v, want %s with %d attempts", i+1, got, c.ID, i+1)
		} else {
			sameTime(t, s, "ExpiresAt", got.ExpiresAt, c.ExpiresAt)
		}
	}
	_, err = s.SpendLatestAttempt(ctx, "r1", at)
	wantErr(t, "SpendLatestAttempt past max_attempts", err, storage.ErrAlreadyUsed)
	wantErr(t, "the replaced challenge took no guess", spend(ctx, s, old.ID, at), storage.ErrAlreadyUsed)
	if got, err := s.LatestChallenge(ctx, "r2"); err != nil || got.Attempts != 0 {
		t.Errorf("another request's challenge: %+v, %v", got, err)
	}

	e := newChallenge("r3", at)
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, e))
	_, err = s.SpendLatestAttempt(ctx, "r3", e.ExpiresAt)
	wantErr(t, "SpendLatestAttempt at expiry", err, storage.ErrAlreadyUsed)
	ok(t, "UseChallenge", s.UseChallenge(ctx, e.ID, at))
	_, err = s.SpendLatestAttempt(ctx, "r3", at)
	wantErr(t, "SpendLatestAttempt after use", err, storage.ErrAlreadyUsed)
}

func testConcurrentSpendLatestAttempt(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	c := newChallenge("r1", at)
	c.MaxAttempts = 5
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, c))
	counts := make([]int, racers)
	won := contend(t, func(i int) error {
		got, err := s.SpendLatestAttempt(ctx, "r1", at)
		if err == nil {
			counts[i] = got.Attempts
		}
		return err
	})
	if won != 5 {
		t.Errorf("%d of %d concurrent guesses counted, want exactly 5 (max_attempts)", won, racers)
	}
	wantPermutation(t, slices.DeleteFunc(counts, func(n int) bool { return n == 0 }), 5)
}

func testConcurrentUseChallenge(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	c := newChallenge("r1", at)
	ok(t, "CreateChallenge", s.CreateChallenge(ctx, c))
	winner := race(t, func(i int) error {
		return s.UseChallenge(ctx, c.ID, at.Add(time.Duration(i)*time.Millisecond))
	})
	got, err := s.LatestChallenge(ctx, "r1")
	ok(t, "LatestChallenge", err)
	if winner >= 0 {
		sameTimePtr(t, s, "UsedAt", got.UsedAt, at.Add(time.Duration(winner)*time.Millisecond))
	}
}
