package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

type sessionOut struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

func TestSessionCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	alice := okJSON[userOut](c, "alice-password\n", "user", "create", "--username", "alice", "--password-stdin", "--json")
	bob := okJSON[userOut](c, "bob-password\n", "user", "create", "--username", "bob", "--password-stdin", "--json")
	st := c.store()
	ctx := context.Background()
	now := time.Now().UTC().Add(-time.Minute)
	for i, owner := range []string{alice.ID, alice.ID, bob.ID} {
		s := &storage.Session{ID: []string{"s-alice-1", "s-alice-2", "s-bob"}[i], UserID: owner, AuthTime: now,
			AMR: storage.StringList{"pwd"}, ACR: "urn:twofold:acr:pwd", Clients: storage.StringList{"wiki"}, IP: "192.0.2.7",
			CreatedAt: now.Add(time.Duration(i) * time.Second), LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	if got := okJSON[[]sessionOut](c, "", "session", "list", "--user", "alice", "--json"); len(got) != 2 || got[0].ID != "s-alice-2" || got[0].Username != "alice" {
		t.Fatalf("session list --user alice = %+v", got)
	}
	if text := c.ok("", "session", "list"); !strings.Contains(text, "s-bob") || !strings.Contains(text, "192.0.2.7") || !strings.Contains(text, "wiki") {
		t.Errorf("session list (text):\n%s", text)
	}
	c.ok("", "session", "revoke", "s-alice-1")
	if got := okJSON[[]sessionOut](c, "", "session", "list", "--user", "alice", "--json"); len(got) != 1 || got[0].ID != "s-alice-2" {
		t.Fatalf("after revoking s-alice-1: %+v", got)
	}
	if out := c.ok("", "session", "revoke", "--user", "alice"); !strings.Contains(out, "every session of alice") {
		t.Errorf("session revoke --user = %q", out)
	}
	if got := okJSON[[]sessionOut](c, "", "session", "list", "--user", "alice", "--json"); len(got) != 0 {
		t.Fatalf("after revoke --user alice: %+v", got)
	}
	if u, err := st.User(ctx, alice.ID); err != nil || u.SessionsNotBefore == nil {
		t.Errorf("alice's not-before mark = %v, %v", u, err)
	}
	c.ok("", "session", "revoke", "--all")
	if mark, err := st.GlobalNotBefore(ctx); err != nil || mark.IsZero() {
		t.Errorf("global mark = %v, %v", mark, err)
	}
	if got := okJSON[[]sessionOut](c, "", "session", "list", "--json"); len(got) != 0 {
		t.Fatalf("after revoke --all: %+v", got)
	}

	c.fails("", []string{"session", "revoke"}, "exactly one")
	c.fails("", []string{"session", "revoke", "s-bob", "--all"}, "exactly one")
	c.fails("", []string{"session", "revoke", "nope"}, `no session "nope"`)
	c.fails("", []string{"session", "revoke", "--user", "nobody"}, `no user "nobody"`)
	c.fails("", []string{"session", "list", "--user", "nobody"}, `no user "nobody"`)
	events, err := st.AuditEvents(ctx, storage.AuditFilter{})
	if err != nil || len(events) < 3 || events[0].Type != "sessions_revoked_all" || events[0].Actor != "cli" {
		t.Errorf("audit = %+v, %v", events, err)
	}
}
