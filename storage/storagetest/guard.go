package storagetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// The abuse counters: login/guard builds every limit on these primitives,
// so their atomicity is what makes the limits hold across replicas.

func testCounters(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	const window = 10 * time.Minute
	hit := func(key string, when time.Time) storage.CounterHit {
		t.Helper()
		h, err := s.HitCounter(ctx, key, window, when)
		ok(t, "HitCounter", err)
		return h
	}
	read := func(key string, when time.Time) storage.CounterHit {
		t.Helper()
		h, err := s.Counter(ctx, key, window, when)
		ok(t, "Counter", err)
		return h
	}
	if c := read("k", at); c.Count != 0 || !c.WindowStart.IsZero() {
		t.Errorf("Counter of an unknown key = %+v, want zero", c)
	}
	for i := 1; i <= 3; i++ {
		h := hit("k", at.Add(time.Duration(i)*time.Minute))
		if h.Count != int64(i) {
			t.Errorf("hit %d: count = %d", i, h.Count)
		}
		sameTime(t, s, "WindowStart", h.WindowStart, at.Add(time.Minute)) // the first hit starts the window
	}
	if h := hit("other", at); h.Count != 1 {
		t.Errorf("another key counts %d, want 1", h.Count)
	}
	if c := read("k", at.Add(5*time.Minute)); c.Count != 3 {
		t.Errorf("Counter within the window = %d, want 3", c.Count)
	}
	// The window started at +1m: at +11m it has passed.
	if c := read("k", at.Add(11*time.Minute)); c.Count != 0 {
		t.Errorf("Counter after the window = %d, want 0", c.Count)
	}
	h := hit("k", at.Add(11*time.Minute))
	if h.Count != 1 {
		t.Errorf("first hit after the window: count = %d, want 1 (restarted)", h.Count)
	}
	sameTime(t, s, "restarted WindowStart", h.WindowStart, at.Add(11*time.Minute))

	// Undo takes back a hit of its own window only.
	h = hit("k", at.Add(12*time.Minute))
	ok(t, "UndoHit", s.UndoHit(ctx, "k", h.WindowStart))
	if c := read("k", at.Add(12*time.Minute)); c.Count != 1 {
		t.Errorf("after UndoHit count = %d, want 1", c.Count)
	}
	ok(t, "UndoHit of an old window", s.UndoHit(ctx, "k", at.Add(time.Minute)))
	if c := read("k", at.Add(12*time.Minute)); c.Count != 1 {
		t.Errorf("UndoHit of a passed window changed the count to %d", c.Count)
	}
	ok(t, "UndoHit unknown", s.UndoHit(ctx, "nope", at))

	// Purge deletes counters whose window started before the mark.
	hit("fresh", at.Add(30*time.Minute))
	n, err := s.PurgeCounters(ctx, at.Add(20*time.Minute), 1)
	ok(t, "PurgeCounters", err)
	if n != 1 {
		t.Errorf("PurgeCounters with batch 1 deleted %d", n)
	}
	n, err = s.PurgeCounters(ctx, at.Add(20*time.Minute), 100)
	ok(t, "PurgeCounters", err)
	if n != 1 {
		t.Errorf("second PurgeCounters deleted %d, want the remaining 1", n)
	}
	if c := read("fresh", at.Add(30*time.Minute)); c.Count != 1 {
		t.Errorf("PurgeCounters deleted a live counter (count %d)", c.Count)
	}
}

// testConcurrentCounterHits: parallel hits each get their own count, so a
// limit of 5 lets exactly 5 of 50 through.
func testConcurrentCounterHits(t *testing.T, s *storage.Store) {
	at := now()
	counts := parallel(t, func(i int) int64 {
		h, err := s.HitCounter(t.Context(), "dest", 10*time.Minute, at.Add(time.Duration(i)*time.Microsecond))
		if err != nil {
			t.Errorf("HitCounter: %v", err)
		}
		return h.Count
	})
	through := 0
	for _, c := range counts {
		if c >= 1 && c <= 5 {
			through++
		}
	}
	if through != 5 {
		t.Errorf("%d of %d hits within a limit of 5, want exactly 5 (counts %v)", through, racers, counts)
	}
	wantPermutation(t, counts, racers)
}

func testAccountGuards(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	_, err := s.AccountGuard(ctx, "u1")
	wantErr(t, "AccountGuard of a clean account", err, storage.ErrNotFound)
	for i := 1; i <= 3; i++ {
		n, locked, err := s.AccountFailure(ctx, "u1", 3, at.Add(time.Duration(i)*time.Second))
		ok(t, "AccountFailure", err)
		if n != i || (locked != nil) != (i == 3) {
			t.Errorf("failure %d: count %d, locked %v", i, n, locked)
		}
	}
	g, err := s.AccountGuard(ctx, "u1")
	ok(t, "AccountGuard", err)
	if g.Failures != 3 {
		t.Errorf("Failures = %d, want 3", g.Failures)
	}
	sameTimePtr(t, s, "LastFailureAt", g.LastFailureAt, at.Add(3*time.Second))
	sameTimePtr(t, s, "LockedAt", g.LockedAt, at.Add(3*time.Second))

	// Later failures keep the first lock time; a success leaves the lock.
	_, locked, err := s.AccountFailure(ctx, "u1", 3, at.Add(time.Hour))
	ok(t, "AccountFailure", err)
	sameTimePtr(t, s, "LockedAt after more failures", locked, at.Add(3*time.Second))
	ok(t, "ResetAccountGuard", s.ResetAccountGuard(ctx, "u1"))
	if g, err := s.AccountGuard(ctx, "u1"); err != nil || g.LockedAt == nil {
		t.Errorf("ResetAccountGuard removed a lock: %+v, %v", g, err)
	}
	wantErr(t, "ClaimAccountAttempt on a locked account",
		s.ClaimAccountAttempt(ctx, "u1", 4, at.Add(2*time.Hour), at.Add(2*time.Hour), at.Add(2*time.Hour)), storage.ErrAlreadyUsed)
	ok(t, "UnlockAccount", s.UnlockAccount(ctx, "u1"))
	_, err = s.AccountGuard(ctx, "u1")
	wantErr(t, "AccountGuard after UnlockAccount", err, storage.ErrNotFound)
	ok(t, "UnlockAccount of a clean account", s.UnlockAccount(ctx, "u1"))

	// A success resets an unlocked account.
	_, _, err = s.AccountFailure(ctx, "u2", 100, at)
	ok(t, "AccountFailure", err)
	ok(t, "ResetAccountGuard", s.ResetAccountGuard(ctx, "u2"))
	_, err = s.AccountGuard(ctx, "u2")
	wantErr(t, "AccountGuard after ResetAccountGuard", err, storage.ErrNotFound)

	// Claims: one per slot; a failure opens a new slot; a stale claim
	// lapses after its lease.
	fail := at.Add(time.Minute)
	_, _, err = s.AccountFailure(ctx, "u3", 100, fail)
	ok(t, "AccountFailure", err)
	wantErr(t, "claim before the slot opens", s.ClaimAccountAttempt(ctx, "u3", 1, fail.Add(-time.Second), fail, fail), storage.ErrAlreadyUsed)
	wantErr(t, "claim with a stale count", s.ClaimAccountAttempt(ctx, "u3", 2, fail, fail, fail), storage.ErrAlreadyUsed)
	claim := fail.Add(30 * time.Second)
	ok(t, "ClaimAccountAttempt", s.ClaimAccountAttempt(ctx, "u3", 1, fail, claim.Add(-10*time.Second), claim))
	wantErr(t, "second claim in the lease", s.ClaimAccountAttempt(ctx, "u3", 1, fail, claim.Add(-time.Second), claim.Add(time.Second)), storage.ErrAlreadyUsed)
	ok(t, "claim after the lease", s.ClaimAccountAttempt(ctx, "u3", 1, fail, claim, claim.Add(10*time.Second)))
	_, _, err = s.AccountFailure(ctx, "u3", 100, claim.Add(10*time.Second))
	ok(t, "AccountFailure", err)
	ok(t, "claim after a new failure", s.ClaimAccountAttempt(ctx, "u3", 2, claim.Add(10*time.Second), at, claim.Add(10*time.Second)))
	g, err = s.AccountGuard(ctx, "u3")
	ok(t, "AccountGuard", err)
	sameTimePtr(t, s, "ClaimedAt", g.ClaimedAt, claim.Add(10*time.Second))

	// A released claim frees the slot at once; the failures stay.
	fail2, claim2 := claim.Add(10*time.Second), claim.Add(20*time.Second)
	ok(t, "ClaimAccountAttempt", s.ClaimAccountAttempt(ctx, "u3", 2, fail2, claim2.Add(-10*time.Second), claim2))
	wantErr(t, "second claim in the lease", s.ClaimAccountAttempt(ctx, "u3", 2, fail2, claim2.Add(-9*time.Second), claim2.Add(time.Second)), storage.ErrAlreadyUsed)
	ok(t, "ReleaseAccountAttempt", s.ReleaseAccountAttempt(ctx, "u3"))
	g, err = s.AccountGuard(ctx, "u3")
	ok(t, "AccountGuard", err)
	if g.ClaimedAt != nil || g.Failures != 2 {
		t.Errorf("after ReleaseAccountAttempt: claimed %v, failures %d; want no claim, 2", g.ClaimedAt, g.Failures)
	}
	ok(t, "claim in the lease after a release", s.ClaimAccountAttempt(ctx, "u3", 2, fail2, claim2.Add(-9*time.Second), claim2.Add(time.Second)))
	ok(t, "ReleaseAccountAttempt of a clean account", s.ReleaseAccountAttempt(ctx, "nobody"))
}

// testConcurrentAccountFailures: parallel failures count exactly, and the
// lock falls at exactly the limit, seen by exactly one caller.
func testConcurrentAccountFailures(t *testing.T, s *storage.Store) {
	at := now()
	lockAt := 2 * racers
	fail := func(int) int {
		n, _, err := s.AccountFailure(t.Context(), "u1", lockAt, at)
		if err != nil {
			t.Errorf("AccountFailure: %v", err)
		}
		return n
	}
	first := parallel(t, fail)
	wantPermutation(t, first, racers)
	g, err := s.AccountGuard(t.Context(), "u1")
	ok(t, "AccountGuard", err)
	if g.Failures != racers || g.LockedAt != nil {
		t.Fatalf("after %d parallel failures: %d counted, locked %v", racers, g.Failures, g.LockedAt)
	}
	second := parallel(t, fail)
	if slices.Min(second) != racers+1 || slices.Max(second) != lockAt {
		t.Errorf("second round counted %d..%d, want %d..%d", slices.Min(second), slices.Max(second), racers+1, lockAt)
	}
	g, err = s.AccountGuard(t.Context(), "u1")
	ok(t, "AccountGuard", err)
	if g.Failures != lockAt || g.LockedAt == nil {
		t.Errorf("after %d failures: %d counted, locked %v; want locked", lockAt, g.Failures, g.LockedAt)
	}
}

func testConcurrentClaimAccountAttempt(t *testing.T, s *storage.Store) {
	at := now()
	for range 5 {
		_, _, err := s.AccountFailure(t.Context(), "u1", 100, at)
		ok(t, "AccountFailure", err)
	}
	later := at.Add(time.Minute)
	race(t, func(i int) error {
		return s.ClaimAccountAttempt(t.Context(), "u1", 5, at, later.Add(-10*time.Second), later.Add(time.Duration(i)*time.Microsecond))
	})
}

// parallel runs fn(i) in racers goroutines released together and returns
// their results by index.
func parallel[T any](t *testing.T, fn func(i int) T) []T {
	t.Helper()
	start := make(chan struct{})
	out := make([]T, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			out[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// wantPermutation checks that counts are 1..n, each once: no two parallel
// increments saw the same value.
func wantPermutation[T int | int64](t *testing.T, counts []T, n int) {
	t.Helper()
	sorted := slices.Sorted(slices.Values(counts))
	for i, c := range sorted {
		if c != T(i+1) {
			t.Errorf("counts %v are not 1..%d, each once", sorted, n)
			return
		}
	}
}
