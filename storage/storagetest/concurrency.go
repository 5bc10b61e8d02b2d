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

// racers is how many goroutines contend for one single-use transition.
const racers = 50

// race runs fn(i) in racers goroutines released together by closing a
// channel, and checks that exactly one wins and every other one loses with
// ErrAlreadyUsed: any other error (SQLITE_BUSY, a serialization failure) is
// a bug, since callers would turn it into a 500.
func race(t *testing.T, fn func(i int) error) (winner int) {
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
	var winners []int
	var other []string
	for i, err := range errs {
		switch {
		case err == nil:
			winners = append(winners, i)
		case !errors.Is(err, storage.ErrAlreadyUsed):
			other = append(other, fmt.Sprintf("goroutine %d: %v", i, err))
		}
	}
	if len(winners) != 1 {
		t.Errorf("%d goroutines won (%v), want exactly 1", len(winners), winners)
	}
	for _, o := range other {
		t.Errorf("want nil or ErrAlreadyUsed, got %s", o)
	}
	if len(winners) == 0 {
		return -1
	}
	return winners[0]
}

func testConcurrentRedeem(t *testing.T, s *storage.Store) {
	at := now()
	a := doneRequest(t, s, at)
	ok(t, "SaveAuthCode", s.SaveAuthCode(t.Context(), a.ID, "code", at.Add(time.Minute)))
	race(t, func(i int) error {
		return s.RedeemAuthCode(t.Context(), a.ID, at.Add(time.Duration(i)*time.Millisecond))
	})
}

func testConcurrentRotate(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	old := newRefreshToken(at, "app", "fam", "s1")
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, old))
	next := make([]*storage.RefreshToken, racers)
	for i := range next {
		next[i] = newRefreshToken(at, "app", "fam", "s1")
	}
	winner := race(t, func(i int) error {
		return s.RotateRefreshToken(ctx, old.ID, next[i], at)
	})
	stored := 0
	for i, n := range next {
		_, err := s.RefreshTokenByHash(ctx, n.TokenHash)
		switch {
		case err == nil:
			stored++
			if i != winner {
				t.Errorf("goroutine %d lost but its token is stored", i)
			}
		case !errors.Is(err, storage.ErrNotFound):
			t.Fatalf("RefreshTokenByHash: %v", err)
		}
	}
	if stored != 1 {
		t.Errorf("%d new refresh tokens stored, want exactly 1", stored)
	}
	if got, err := s.RefreshTokenByID(ctx, old.ID); err != nil || winner < 0 || got.SuccessorID != next[winner].ID {
		t.Errorf("after the race the old token's successor is %+v, %v; want the winner's", got, err)
	}
}

// testConcurrentRotateSameSuccessor is the refresh storm of a relying
// party with several processes: every racer rotates the token into the
// same successor (its hash derived from the old token), exactly one wins,
// and every loser, reading the old token right after it lost, already
// finds the winner's successor stored: what the reuse grace hands out.
func testConcurrentRotateSameSuccessor(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	old := newRefreshToken(at, "app", "fam", "s1")
	ok(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, old))
	hash := newID()
	ids := make([]string, racers)
	seen := make([]string, racers)
	race(t, func(i int) error {
		next := newRefreshToken(at, "app", "fam", "s1")
		next.TokenHash, ids[i] = hash, next.ID
		err := s.RotateRefreshToken(ctx, old.ID, next, at)
		if errors.Is(err, storage.ErrAlreadyUsed) {
			got, rerr := s.RefreshTokenByID(ctx, old.ID)
			if rerr != nil {
				return rerr
			}
			if succ, rerr := s.RefreshTokenByID(ctx, got.SuccessorID); rerr == nil && succ.TokenHash == hash {
				seen[i] = succ.ID
			}
		}
		return err
	})
	got, err := s.RefreshTokenByID(ctx, old.ID)
	ok(t, "RefreshTokenByID", err)
	if !slices.Contains(ids, got.SuccessorID) {
		t.Fatalf("old token's successor %q is none of the racers'", got.SuccessorID)
	}
	for i, id := range seen {
		if ids[i] != got.SuccessorID && id != got.SuccessorID {
			t.Errorf("loser %d read successor %q right after losing, want the stored %q", i, id, got.SuccessorID)
		}
	}
}

func testConcurrentComplete(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	a := newAuthRequest(at)
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
	winner := race(t, func(i int) error {
		c := storage.Completion{UserID: fmt.Sprintf("u%d", i), SessionID: fmt.Sprintf("s%d", i), AuthTime: at, AMR: []string{"pwd"}}
		return s.CompleteAuthRequest(ctx, a.ID, c, at)
	})
	got, err := s.AuthRequest(ctx, a.ID, at)
	ok(t, "AuthRequest", err)
	if want := fmt.Sprintf("u%d", winner); got.UserID != want || got.SessionID != fmt.Sprintf("s%d", winner) {
		t.Errorf("completed by %s/%s, but the winner was goroutine %d", got.UserID, got.SessionID, winner)
	}
}

func testConcurrentBind(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	a := newAuthRequest(at)
	ok(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, a))
	winner := race(t, func(i int) error {
		return s.BindAuthRequest(ctx, a.ID, fmt.Sprintf("browser-%d", i))
	})
	got, err := s.AuthRequest(ctx, a.ID, at)
	ok(t, "AuthRequest", err)
	if want := fmt.Sprintf("browser-%d", winner); got.BrowserHash != want {
		t.Errorf("bound to %q, but the winner was %q", got.BrowserHash, want)
	}
}
