package password

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	p := NewHasher(64, 1, 1, 2, time.Second)
	ctx := context.Background()
	h, err := p.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash format %q", h)
	}
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse", true},
		{h, "correct horse ", false},
		{h, "", false},
		{"", "correct horse", false}, // unknown user: dummy hash, never true
	} {
		got, err := p.Verify(ctx, tc.hash, tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tc.pw, got, err, tc.want)
		}
	}
	if _, err := p.Verify(ctx, "$bcrypt$x", "a"); err == nil {
		t.Error("foreign hash format accepted")
	}
	if _, err := p.Hash(ctx, strings.Repeat("a", MaxBytes+1)); err == nil {
		t.Error("oversized password hashed")
	}
}

func TestHashQueueFull(t *testing.T) {
	p := NewHasher(64, 1, 1, 1, 10*time.Millisecond)
	p.slots <- struct{}{} // the only slot is taken
	if _, err := p.Hash(context.Background(), "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with no free slot = %v, want ErrBusy", err)
	}
}

// TestNeedsRehash: a hash is made again when any cost parameter is below
// the configured one, never when it is at or above them.
func TestNeedsRehash(t *testing.T) {
	p := NewHasher(19456, 2, 1, 1, time.Second)
	for _, tc := range []struct {
		hash string
		want bool
	}{
		{"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", false},
		{"$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", false},
		{"$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", true},  // less memory
		{"$argon2id$v=19$m=19456,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", true}, // fewer passes
		{"$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", true}, // more memory does not make up for passes
		{"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", true}, // older argon2
		{"$bcrypt$x", false},
		{"", false},
		{"$argon2id$v=19$m=x$a$b", false},
	} {
		if got := p.NeedsRehash(tc.hash); got != tc.want {
			t.Errorf("NeedsRehash(%q) = %v, want %v", tc.hash, got, tc.want)
		}
	}
	fresh, err := p.Hash(context.Background(), "pw")
	if err != nil || p.NeedsRehash(fresh) {
		t.Errorf("a fresh hash needs a rehash: %v", err)
	}
}
