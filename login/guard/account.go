package guard

import (
	"context"
	"errors"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// attemptLease is how long an attempt in the backoff regime holds its slot
// when it ends neither in a failure, nor in a success, nor in a Release (a
// crash): parallel attempts wait for it meanwhile.
const attemptLease = 10 * time.Second

// UsernameKey is the key that a typed username which names no enabled
// account is counted and backed off under, in place of a user id: the name
// as the store looks it up (storage.NormalUsername), hashed like every
// counter key. With it the password step backs off and locks a name alike
// whether an account has it or not, so its answers tell nobody which.
func (g *Guard) UsernameKey(username string) string {
	return "name:" + g.hash("username", storage.NormalUsername(username))
}

// AccountWait says whether userID (a user id or a UsernameKey) may try a
// password or a code now: wait is how long until it may (0: now), locked
// that only an admin can let it in again. Call it before checking a
// password or a code, and then Failure, Success or Release.
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

// AccountPending is AccountWait without the claim: how long userID must
// still wait before its next attempt, or that it is locked. Ask it before
// sending a code, so that no code goes out that the code step would refuse.
func (g *Guard) AccountPending(ctx context.Context, userID string) (wait time.Duration, locked bool, err error) {
	if userID == "" {
		return 0, false, errNoUser
	}
	st, err := g.store.AccountGuard(ctx, userID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case st.LockedAt != nil:
		return 0, true, nil
	}
	return roundUp(g.waitFor(st, g.now())), false, nil
}

// Release gives back the slot AccountWait claimed for an attempt that
// ended neither in a failure nor in a success: a right password with a
// second factor to come, or a code check that compared nothing. The
// sign-in's next step then takes the slot at once, where it would have
// waited out the claim's lease. The failures stay. An account without a
// live claim costs no statement (the read is remembered for the request).
func (g *Guard) Release(ctx context.Context, userID string) error {
	if userID == "" {
		return errNoUser
	}
	st, err := g.store.AccountGuard(ctx, userID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return err
	case st.ClaimedAt == nil || (st.LastFailureAt != nil && !st.ClaimedAt.After(*st.LastFailureAt)):
		return nil // no claim, or one a later failure already ended
	}
	return g.store.ReleaseAccountAttempt(ctx, userID)
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

// Failure counts a wrong password or code: for the account or the
// UsernameKey when userID is set, and for the client IP. justLocked
// reports that this failure locked it, for the caller to audit.
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
