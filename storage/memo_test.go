package storage_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// TestMemo checks the request memo: a record is read once per request,
// every caller gets its own copy, a write to the table makes the next read
// go to the database, and without a memo nothing is remembered.
func TestMemo(t *testing.T) {
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "memo.db"))
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := s.CreateUser(t.Context(), &storage.User{ID: "u1", Username: "alice", Name: "Alice", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAuthRequest(t.Context(), &storage.AuthRequest{ID: "a1", ClientID: "c", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	s.CountQueries()
	ctx := storage.WithMemo(t.Context())
	queries := func(do func()) int64 {
		t.Helper()
		before := s.Queries()
		do()
		return s.Queries() - before
	}
	read := func() *storage.User {
		t.Helper()
		u, err := s.User(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if n := queries(func() { read().Name = "changed by a caller" }); n != 1 {
		t.Errorf("first read: %d queries, want 1", n)
	}
	if n := queries(func() {
		if u := read(); u.Name != "Alice" {
			t.Errorf("second read = %q: a caller's change leaked into the memo", u.Name)
		}
	}); n != 0 {
		t.Errorf("second read in the same request: %d queries, want 0", n)
	}
	if err := s.UpdateUser(ctx, "u1", storage.UserUpdate{Name: new("Alice B")}, now); err != nil {
		t.Fatal(err)
	}
	if n := queries(func() {
		if u := read(); u.Name != "Alice B" {
			t.Errorf("read after a write = %q, want the written name", u.Name)
		}
	}); n != 1 {
		t.Errorf("read after a write: %d queries, want 1", n)
	}
	if n := queries(func() {
		for range 2 {
			if _, err := s.User(t.Context(), "u1"); err != nil {
				t.Fatal(err)
			}
		}
	}); n != 2 {
		t.Errorf("two reads without a memo: %d queries, want 2", n)
	}
	// An auth request remembered is still checked against the time asked.
	if _, err := s.AuthRequest(ctx, "a1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthRequest(ctx, "a1", now.Add(2*time.Minute)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("expired auth request from the memo: err = %v, want ErrNotFound", err)
	}
}

// A record found missing is remembered as missing until the table is
// written to.
func TestMemoRemembersMissing(t *testing.T) {
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "memo.db"))
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.CountQueries()
	ctx := storage.WithMemo(t.Context())
	before := s.Queries()
	for range 3 {
		if _, err := s.User(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	}
	if n := s.Queries() - before; n != 1 {
		t.Errorf("three reads of a missing user: %d queries, want 1", n)
	}
	now := time.Now().UTC()
	if err := s.CreateUser(ctx, &storage.User{ID: "nobody", Username: "nobody", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.User(ctx, "nobody"); err != nil {
		t.Errorf("read after creating the user: %v", err)
	}
}

// A write in raw SQL (the account guard's UPSERT … RETURNING) also makes the
// next read go to the database.
func TestMemoForgetsRawWrites(t *testing.T) {
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "memo.db"))
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := storage.WithMemo(t.Context())
	if _, err := s.AccountGuard(ctx, "u1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("clean account: err = %v, want ErrNotFound", err)
	}
	if _, _, err := s.AccountFailure(ctx, "u1", 100, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	g, err := s.AccountGuard(ctx, "u1")
	if err != nil || g.Failures != 1 {
		t.Fatalf("after a failure: %+v, %v; want 1 failure", g, err)
	}
}
