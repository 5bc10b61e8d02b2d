package guard

import (
	"context"
	"errors"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// attemptLease is how long an attempt in the backoff regime holds its slot
// when it ends neither in a failure nor in a success (a password step that
// passed, with a second factor to come; a crash). It only delays a step that
// follows a success within seconds.
const attemptLease = 10 * time.Second

// AccountWait says whether userID may try a password or a code now: wait is
// how long until it may (0: now), locked that only an admin can let it in
// again. Call it before checking a password or a code of a known user, and
// then Failure or Success.
//
// Once the account is in backoff it is also a claim: of parallel callers
// one gets 0 and the others a wait, so the backoff admits one guess per slot
// across all replicas. Before the backoff starts, parallel attempts are not
// serialised; each failure still counts, so the wait that follows covers
// them all.
func (g *Guard) AccountWait(ctx context.Context, userID string) (wait time.Duration, locked bool, err error) {
	if userID == "" {
		return 0, false, errNoUser
	}
	now := g.now()
	st, err := g.store.AccountGuard(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	if st.LockedAt != nil {
		return 0, true, nil
	}
	if st.Failures < g.l.BackoffAfter || st.LastFailureAt == nil {
		return 0, false, nil
	}
	if wait := g.waitFor(st, now); wait > 0 {
		return roundUp(wait), false, nil
	}
	slotOpen := now.Add(-g.backoff(st.Failures))
	err = g.store.ClaimAccountAttempt(ctx, userID, st.Failures, slotOpen, now.Add(-attemptLease), now)
	if !errors.Is(err, storage.ErrAlreadyUsed) {
		return 0, false, err
	}
	// Someone else took the slot, failed or succeeded meanwhile: say why.
	st, err = g.store.AccountGuard(ctx, userID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case st.LockedAt != nil:
		return 0, true, nil
	}
	if wait := g.waitFor(st, now); wait > 0 {
		return roundUp(wait), false, nil
	}
	return attemptLease, false, nil // clocks of replicas disagree; be safe
}

// waitFor is how long an account must still wait at now: until its backoff
// slot opens and, when an attempt claimed the slot, until that claim lapses.
func (g *Guard) waitFor(st *storage.AccountGuard, now time.Time) time.Duration {
	if st.Failures < g.l.BackoffAfter || st.LastFailureAt == nil {
		return 0
	}
	until := st.LastFailureAt.Add(g.backoff(st.Failures))
	if c := st.ClaimedAt; c != nil && c.After(*st.LastFailureAt) {
		until = later(until, c.Add(attemptLease))
	}
	return until.Sub(now)
}

// backoff is the wait after failures consecutive failures: BackoffBase at
// BackoffAfter, doubling with each further failure, capped at BackoffMax.
func (g *Guard) backoff(failures int) time.Duration {
	n := failures - g.l.BackoffAfter
	if n < 0 || g.l.BackoffBase <= 0 {
		return 0
	}
	d := g.l.BackoffBase
	for range n {
		if d > g.l.BackoffMax/2 { // also keeps d*2 from overflowing
			return g.l.BackoffMax
		}
		d *= 2
	}
	return min(d, g.l.BackoffMax)
}

// Failure counts a wrong password or code: for the account when userID is
// set (an unknown user has none), and for the client IP. justLocked
// reports that this failure locked the account, for the caller to audit.
func (g *Guard) Failure(ctx context.Context, userID, ip string) (justLocked bool, err error) {
	now := g.now()
	var errs []error
	if userID != "" {
		n, _, err := g.store.AccountFailure(ctx, userID, g.l.LockAfter, now)
		errs = append(errs, err)
		justLocked = err == nil && n == g.l.LockAfter
	}
	if k := ClientKey(ip); k != "" {
		_, err := g.store.HitCounter(ctx, g.ipFailureKey(k), g.l.IPWindow, now)
		errs = append(errs, err)
	}
	return justLocked, errors.Join(errs...)
}

// Success clears the account's failures. Call it when a sign-in completes,
// after its last factor, not after a password that a second factor
// follows: a password must not wipe the count of wrong codes. It leaves a
// lock in place.
func (g *Guard) Success(ctx context.Context, userID string) error {
	if userID == "" {
		return errNoUser
	}
	// A clean account has no row: nothing to reset. The sign-in read it
	// already (the read is remembered for the request), so this costs no
	// query; a failure recorded in parallel meanwhile stays counted.
	if _, err := g.store.AccountGuard(ctx, userID); errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return g.store.ResetAccountGuard(ctx, userID)
}

// Unlock clears the failures and the lock of an account (an admin action).
func (g *Guard) Unlock(ctx context.Context, userID string) error {
	if userID == "" {
		return errNoUser
	}
	return g.store.UnlockAccount(ctx, userID)
}

// IPBlocked returns how long the client IP must wait (0: not blocked):
// after IPFailures failures within IPWindow, until that window ends. Call
// it before checking a password or a code, and answer 429 with Retry-After
// (whole seconds). Only the IP is refused: the account stays open to its
// owner elsewhere.
func (g *Guard) IPBlocked(ctx context.Context, ip string) (retryAfter time.Duration, err error) {
	k := ClientKey(ip)
	if k == "" {
		return 0, nil
	}
	now := g.now()
	c, err := g.store.Counter(ctx, g.ipFailureKey(k), g.l.IPWindow, now)
	if err != nil || c.Count < int64(g.l.IPFailures) {
		return 0, err
	}
	return max(roundUp(c.WindowStart.Add(g.l.IPWindow).Sub(now)), time.Second), nil
}

func (g *Guard) ipFailureKey(clientKey string) string {
	return "fail:ip:" + g.hash("ip", clientKey)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
