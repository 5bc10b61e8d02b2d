package guard_test

import (
	"strings"
	"testing"
	"time"
)

func TestBackoffSchedule(t *testing.T) {
	g, clk, _ := newGuard(t, testLimits())
	ctx := t.Context()
	// The wait right after the n-th consecutive failure.
	schedule := []time.Duration{
		1: 0, 2: 0, 3: 0, 4: 0,
		5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute, 8: 4 * time.Minute, 9: 8 * time.Minute,
		10: 15 * time.Minute, 11: 15 * time.Minute, 30: 15 * time.Minute,
	}
	for n := 1; n < len(schedule); n++ {
		_, err := g.Failure(ctx, "u1", "192.0.2.1")
		must(t, "Failure", err)
		want := schedule[n]
		if n > 11 {
			want = 15 * time.Minute
		}
		wait, locked, err := g.AccountWait(ctx, "u1")
		must(t, "AccountWait", err)
		if locked || wait != want {
			t.Fatalf("after failure %d: wait %v, locked %v; want %v", n, wait, locked, want)
		}
		if want == 0 {
			continue
		}
		// The wait runs from the last failure.
		clk.Advance(want - time.Second)
		if wait, _, _ := g.AccountWait(ctx, "u1"); wait != time.Second {
			t.Fatalf("after failure %d, 1s before the end: wait %v, want 1s", n, wait)
		}
		clk.Advance(time.Second)
		if wait, _, _ := g.AccountWait(ctx, "u1"); wait != 0 {
			t.Fatalf("after failure %d, at the end: wait %v, want 0", n, wait)
		}
		// That attempt holds the slot: another one meanwhile waits.
		if wait, _, _ := g.AccountWait(ctx, "u1"); wait <= 0 {
			t.Fatalf("after failure %d: a second attempt in the same slot got wait %v", n, wait)
		}
	}
}

// TestParallelAttemptsInBackoff: when a slot opens, one of many parallel
// attempts (on any replica) gets it.
func TestParallelAttemptsInBackoff(t *testing.T) {
	g, clk, _ := newGuard(t, testLimits())
	ctx := t.Context()
	for range 5 {
		_, err := g.Failure(ctx, "u1", "")
		must(t, "Failure", err)
	}
	clk.Advance(30 * time.Second)
	waits := parallel(50, func(int) time.Duration {
		wait, locked, err := g.AccountWait(ctx, "u1")
		if err != nil || locked {
			t.Errorf("AccountWait = %v, %v, %v", wait, locked, err)
		}
		return wait
	})
	admitted := 0
	for _, w := range waits {
		if w == 0 {
			admitted++
		}
	}
	if admitted != 1 {
		t.Errorf("%d of 50 parallel attempts admitted in one backoff slot, want 1", admitted)
	}
	// A stale claim (a step that passed, a crash) lapses on its own.
	clk.Advance(10 * time.Second)
	if wait, _, _ := g.AccountWait(ctx, "u1"); wait != 0 {
		t.Errorf("after the claim's lease: wait %v, want 0", wait)
	}
}

func TestLockAndUnlock(t *testing.T) {
	g, clk, _ := newGuard(t, testLimits())
	ctx := t.Context()
	// 50 parallel failures count exactly 50: 49 more do not lock, one more does.
	parallel(50, func(int) bool {
		locked, err := g.Failure(ctx, "u1", "192.0.2.1")
		if err != nil || locked {
			t.Errorf("parallel Failure = %v, %v", locked, err)
		}
		return locked
	})
	for i := range 49 {
		clk.Advance(time.Hour)
		locked, err := g.Failure(ctx, "u1", "192.0.2.1")
		must(t, "Failure", err)
		if locked {
			t.Fatalf("locked at failure %d, want at 100", 51+i)
		}
	}
	if _, locked, _ := g.AccountWait(ctx, "u1"); locked {
		t.Fatal("locked after 99 failures")
	}
	locked, err := g.Failure(ctx, "u1", "192.0.2.1")
	must(t, "Failure", err)
	if !locked {
		t.Fatal("failure 100 did not report the lock")
	}
	clk.Advance(365 * 24 * time.Hour)
	if wait, locked, _ := g.AccountWait(ctx, "u1"); !locked || wait != 0 {
		t.Errorf("a year after the lock: wait %v, locked %v; want locked", wait, locked)
	}
	if again, _ := g.Failure(ctx, "u1", ""); again {
		t.Error("a failure after the lock reported a new lock")
	}
	must(t, "Success", g.Success(ctx, "u1"))
	if _, locked, _ := g.AccountWait(ctx, "u1"); !locked {
		t.Error("Success lifted a lock")
	}
	must(t, "Unlock", g.Unlock(ctx, "u1"))
	if wait, locked, _ := g.AccountWait(ctx, "u1"); locked || wait != 0 {
		t.Errorf("after Unlock: wait %v, locked %v", wait, locked)
	}
	// Unlock starts the count afresh.
	for range 4 {
		_, err := g.Failure(ctx, "u1", "")
		must(t, "Failure", err)
	}
	if wait, _, _ := g.AccountWait(ctx, "u1"); wait != 0 {
		t.Errorf("4 failures after Unlock: wait %v, want 0", wait)
	}
}

// TestParallelFailuresLockOnce: the lock falls exactly at 100 however the
// failures interleave, and exactly one caller is told.
func TestParallelFailuresLockOnce(t *testing.T) {
	g, _, _ := newGuard(t, testLimits())
	ctx := t.Context()
	toldLocked := 0
	for _, locked := range parallel(100, func(int) bool {
		locked, err := g.Failure(ctx, "u1", "")
		if err != nil {
			t.Errorf("Failure: %v", err)
		}
		return locked
	}) {
		if locked {
			toldLocked++
		}
	}
	if toldLocked != 1 {
		t.Errorf("%d callers told of the lock, want 1", toldLocked)
	}
	if _, locked, _ := g.AccountWait(ctx, "u1"); !locked {
		t.Error("not locked after 100 parallel failures")
	}
}

func TestSuccessResets(t *testing.T) {
	g, _, _ := newGuard(t, testLimits())
	ctx := t.Context()
	for range 7 {
		_, err := g.Failure(ctx, "u1", "")
		must(t, "Failure", err)
	}
	must(t, "Success", g.Success(ctx, "u1"))
	for n := 1; n <= 5; n++ {
		_, err := g.Failure(ctx, "u1", "")
		must(t, "Failure", err)
		wait, _, err := g.AccountWait(ctx, "u1")
		must(t, "AccountWait", err)
		if want := map[bool]time.Duration{true: 30 * time.Second}[n == 5]; wait != want {
			t.Errorf("failure %d after a success: wait %v, want %v", n, wait, want)
		}
	}
	// Accounts are apart.
	if wait, locked, _ := g.AccountWait(ctx, "u2"); wait != 0 || locked {
		t.Errorf("another account: wait %v, locked %v", wait, locked)
	}
	if _, _, err := g.AccountWait(ctx, ""); err == nil {
		t.Error("AccountWait accepted an empty user id")
	}
}

func TestIPBlock(t *testing.T) {
	g, clk, _ := newGuard(t, testLimits())
	ctx := t.Context()
	blocked := func(ip string) time.Duration {
		t.Helper()
		d, err := g.IPBlocked(ctx, ip)
		must(t, "IPBlocked", err)
		return d
	}
	start := clk.Now()
	for i := 1; i <= 50; i++ {
		if d := blocked("198.51.100.7"); d != 0 {
			t.Fatalf("blocked (%v) before failure %d", d, i)
		}
		user := ""
		if i%2 == 0 {
			user = "victim" // guesses against a real account count for the IP too
		}
		_, err := g.Failure(ctx, user, "198.51.100.7")
		must(t, "Failure", err)
		clk.Advance(6 * time.Second)
	}
	// 50 failures in 5 minutes: blocked for the rest of the 10-minute window.
	want := start.Add(10 * time.Minute).Sub(clk.Now())
	if d := blocked("198.51.100.7"); d != want {
		t.Errorf("Retry-After = %v, want %v (the rest of the window)", d, want)
	}
	if d := blocked("::ffff:198.51.100.7"); d != want {
		t.Errorf("the IPv4-mapped form is not blocked alike: %v", d)
	}
	if d := blocked("198.51.100.8"); d != 0 {
		t.Errorf("another IP is blocked for %v", d)
	}
	// The account itself is not locked by an IP's guesses: its owner elsewhere can sign in.
	if _, locked, _ := g.AccountWait(ctx, "victim"); locked {
		t.Error("the account was locked by one IP's failures")
	}
	clk.Advance(want)
	if d := blocked("198.51.100.7"); d != 0 {
		t.Errorf("still blocked (%v) after the window", d)
	}
	if d := blocked(""); d != 0 {
		t.Errorf("an empty address is blocked for %v", d)
	}
}

func TestIPv6CountsPer64(t *testing.T) {
	l := testLimits()
	l.IPFailures = 3
	g, _, _ := newGuard(t, l)
	ctx := t.Context()
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:DB8:1:2:0:0:0:9%eth0"} {
		_, err := g.Failure(ctx, "", ip)
		must(t, "Failure", err)
	}
	for ip, want := range map[string]bool{
		"2001:db8:1:2::42": true,  // the same /64
		"2001:db8:1:3::1":  false, // the next /64
		"2001:db8:1:2::":   true,
		"192.0.2.1":        false,
	} {
		d, err := g.IPBlocked(ctx, ip)
		must(t, "IPBlocked", err)
		if (d > 0) != want {
			t.Errorf("IPBlocked(%s) = %v, want blocked %v", ip, d, want)
		}
	}
}

// TestReleaseAndPending: a released slot is taken at once by the next
// attempt; AccountPending tells the wait without taking anything.
func TestReleaseAndPending(t *testing.T) {
	g, clk, _ := newGuard(t, testLimits())
	ctx := t.Context()
	must(t, "Release of a clean account", g.Release(ctx, "u1"))
	for range 5 {
		_, err := g.Failure(ctx, "u1", "")
		must(t, "Failure", err)
	}
	pending := func(want time.Duration) {
		t.Helper()
		if wait, locked, err := g.AccountPending(ctx, "u1"); err != nil || locked || wait != want {
			t.Fatalf("AccountPending = %v, %v, %v; want %v", wait, locked, err, want)
		}
	}
	pending(30 * time.Second)
	clk.Advance(30 * time.Second)
	pending(0)
	pending(0) // it claimed nothing
	if wait, _, _ := g.AccountWait(ctx, "u1"); wait != 0 {
		t.Fatalf("the open slot: wait %v", wait)
	}
	pending(10 * time.Second) // the claim's lease
	must(t, "Release", g.Release(ctx, "u1"))
	pending(0)
	if wait, _, _ := g.AccountWait(ctx, "u1"); wait != 0 {
		t.Fatalf("after a release: wait %v, want 0 (the slot is free again)", wait)
	}
	if wait, _, _ := g.AccountWait(ctx, "u1"); wait == 0 {
		t.Fatal("two attempts in one slot after a release")
	}
	// The failures stay: the next one doubles the wait.
	_, err := g.Failure(ctx, "u1", "")
	must(t, "Failure", err)
	pending(time.Minute)
	for range 94 {
		_, err := g.Failure(ctx, "u1", "")
		must(t, "Failure", err)
	}
	if wait, locked, err := g.AccountPending(ctx, "u1"); err != nil || !locked || wait != 0 {
		t.Errorf("AccountPending of a locked account = %v, %v, %v", wait, locked, err)
	}
	if _, _, err := g.AccountPending(ctx, ""); err == nil {
		t.Error("AccountPending accepted an empty user id")
	}
}

// TestUsernameKey: a name's key is the same in every letter case, differs
// between names, and never looks like a user id.
func TestUsernameKey(t *testing.T) {
	g, _, _ := newGuard(t, testLimits())
	k := g.UsernameKey("Nobody")
	if k != g.UsernameKey("nobody") || k != g.UsernameKey("NOBODY") {
		t.Error("the key of a name depends on its letter case")
	}
	if k == g.UsernameKey("nobody2") || !strings.HasPrefix(k, "name:") || strings.Contains(k, "obody") {
		t.Errorf("UsernameKey(Nobody) = %q", k)
	}
}

func TestPurge(t *testing.T) {
	g, clk, s := newGuard(t, testLimits())
	ctx := t.Context()
	_, err := g.Failure(ctx, "u1", "192.0.2.1")
	must(t, "Failure", err)
	must(t, "AllowSend", g.AllowSend(ctx, "sms", "+14155550100", "192.0.2.1"))
	if n, err := g.Purge(ctx, clk.Now().Add(23*time.Hour)); err != nil || n != 0 {
		t.Errorf("Purge within a day = %d, %v; want nothing (the daily counters live)", n, err)
	}
	n, err := g.Purge(ctx, clk.Now().Add(24*time.Hour+time.Second))
	must(t, "Purge", err)
	if n != 6 { // IP failures; destination 10m and day; IP sends; SMS budgets per country and global
		t.Errorf("Purge after a day deleted %d counters, want 6", n)
	}
	if _, err := s.AccountGuard(ctx, "u1"); err != nil {
		t.Errorf("Purge removed account failures: %v", err)
	}
}
