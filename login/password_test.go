package login

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPasswordsHashVerify(t *testing.T) {
	p := NewPasswords(64, 1, 1, 2, time.Second)
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
	if _, err := p.Hash(ctx, strings.Repeat("a", MaxPasswordBytes+1)); err == nil {
		t.Error("oversized password hashed")
	}
}

func TestPasswordsQueueFull(t *testing.T) {
	p := NewPasswords(64, 1, 1, 1, 10*time.Millisecond)
	p.slots <- struct{}{} // the only slot is taken
	if _, err := p.Hash(context.Background(), "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with no free slot = %v, want ErrBusy", err)
	}
}
