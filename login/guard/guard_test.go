package guard_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/login/guard"
	"github.com/twofold-id/twofold/storage"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testLimits are the defaults of the configuration, with the allow-list of
// a sender in the US.
func testLimits() guard.Limits {
	return guard.Limits{
		BackoffAfter: 5, BackoffBase: 30 * time.Second, BackoffMax: 15 * time.Minute, LockAfter: 100,
		IPFailures: 50, IPWindow: 10 * time.Minute,
		DestinationPer10m: 5, DestinationPerDay: 10, IPSendsPer10m: 20,
		SMSCountries:    []string{"US"},
		SMSCountryDaily: 1000, SMSGlobalHourly: 200, VoiceCountryDaily: 100, VoiceGlobalHourly: 50,
	}
}

// openStore returns a migrated SQLite store in a temporary directory and
// the path of its file.
func openStore(t testing.TB) (*storage.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "twofold.db")
	s, err := storage.Open("sqlite:"+path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s, path
}

func newGuard(t testing.TB, l guard.Limits) (*guard.Guard, *clock, *storage.Store) {
	t.Helper()
	s, _ := openStore(t)
	c := newClock()
	return guard.New(s, l, []byte("test key"), c.Now), c, s
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// parallel runs fn(i) in n goroutines released together and returns their
// results by index.
func parallel[T any](n int, fn func(i int) T) []T {
	start := make(chan struct{})
	out := make([]T, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

func refusal(t *testing.T, err error) *guard.RefusedError {
	t.Helper()
	var re *guard.RefusedError
	if !errors.As(err, &re) || !errors.Is(err, guard.ErrRefused) {
		t.Fatalf("err = %v, want a *RefusedError", err)
	}
	return re
}
