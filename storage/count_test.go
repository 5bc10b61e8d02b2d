package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/storage"
)

// TestQueries checks the statement counter the end-to-end query budget
// relies on: one per statement, failed ones included, nothing while off
// or for contexts marked WithoutCounting.
func TestQueries(t *testing.T) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "count.db") },
		"postgres": func(t *testing.T) string { return testkit.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t, url(t))
			if _, err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			testQueries(t, s)
		})
	}
}

func testQueries(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	now := time.Now().UTC()
	sess := &storage.Session{ID: "s1", UserID: "u1", AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if n := s.Queries(); n != 0 {
		t.Fatalf("Queries() = %d with counting off, want 0", n)
	}
	s.CountQueries()
	for _, tc := range []struct {
		name string
		want int64
		run  func(ctx context.Context) error
	}{
		{"select", 1, func(ctx context.Context) error { _, err := s.ActiveSession(ctx, "s1", now); return err }},
		{"select missing row", 1, func(ctx context.Context) error {
			if _, err := s.ActiveSession(ctx, "nope", now); !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			return nil
		}},
		{"update", 1, func(ctx context.Context) error { return s.TouchSession(ctx, "s1", now) }},
		{"delete and insert in a transaction", 2, func(ctx context.Context) error {
			return s.ReplaceSecondFactors(ctx, "u1", []storage.SecondFactor{{ID: "f1", UserID: "u1", Method: "sms", CreatedAt: now}})
		}},
		{"raw, one per table purged", 6, func(ctx context.Context) error { _, err := s.Purge(ctx, now, 10); return err }},
		{"uncounted context", 0, func(ctx context.Context) error {
			_, err := s.ActiveSession(storage.WithoutCounting(ctx), "s1", now)
			return err
		}},
	} {
		before := s.Queries()
		if err := tc.run(ctx); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := s.Queries() - before; got != tc.want {
			t.Errorf("%s: %d statements counted, want %d", tc.name, got, tc.want)
		}
	}
}

func TestCountQueriesOption(t *testing.T) {
	s, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "count.db"), storage.Options{CountQueries: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.Queries() == 0 {
		t.Fatal("Options.CountQueries: migrating counted no statements")
	}
}
