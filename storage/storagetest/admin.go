package storagetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// adminTests cover what the admin API adds: keyset pages of users and
// audit events, client updates and moving second factors with a contact.
var adminTests = []struct {
	name string
	fn   func(t *testing.T, s *storage.Store)
}{
	{"UsersAfter", testUsersAfter},
	{"AuditEvents pages", testAuditEventsPages},
	{"UpdateClient", testUpdateClient},
	{"SetFactorDestination", testSetFactorDestination},
}

func testUsersAfter(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	for _, name := range []string{"dave", "Alice", "carol", "bob"} {
		ok(t, "CreateUser", s.CreateUser(ctx, &storage.User{ID: newID(), Username: name, CreatedAt: now(), UpdatedAt: now()}))
	}
	var got []string
	after := ""
	for {
		page, err := s.UsersAfter(ctx, after, 3)
		ok(t, "UsersAfter", err)
		for _, u := range page {
			got = append(got, u.Username)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].Username
	}
	if want := "alice bob carol dave"; strings.Join(got, " ") != want {
		t.Fatalf("UsersAfter pages = %v, want %s", got, want)
	}
}

func testAuditEventsPages(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	t0 := now().Add(-time.Hour)
	var ids []int64
	for i := 0; i < 5; i++ {
		e := &storage.AuditEvent{CreatedAt: t0.Add(time.Duration(i) * time.Minute), Type: "policy_set", UserID: "u1", Actor: "cli"}
		if i == 2 {
			e.Type, e.UserID = "user_created", "u2"
		}
		ok(t, "Audit", s.Audit(ctx, e))
		ids = append(ids, e.ID)
	}
	page, err := s.AuditEvents(ctx, storage.AuditFilter{Type: "policy_set", Limit: 2})
	ok(t, "AuditEvents", err)
	if len(page) != 2 || page[0].ID != ids[4] || page[1].ID != ids[3] {
		t.Fatalf("first page = %+v", page)
	}
	page, err = s.AuditEvents(ctx, storage.AuditFilter{Type: "policy_set", Limit: 2, Before: page[1].ID})
	ok(t, "AuditEvents", err)
	if len(page) != 2 || page[0].ID != ids[1] || page[1].ID != ids[0] {
		t.Fatalf("second page = %+v", page)
	}
	page, err = s.AuditEvents(ctx, storage.AuditFilter{UserID: "u1", Since: t0.Add(150 * time.Second)})
	ok(t, "AuditEvents", err)
	if len(page) != 2 || page[1].ID != ids[3] {
		t.Fatalf("since page = %+v", page)
	}
}

func testUpdateClient(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	c := &storage.Client{ID: "app", Name: "App", SecretHash: "h", AuthMethod: "client_secret_basic",
		RedirectURIs: storage.StringList{"https://a.example/cb"}, GrantTypes: storage.StringList{"authorization_code"},
		AccessTokenFormat: "opaque", CreatedAt: now(), UpdatedAt: now()}
	ok(t, "CreateClient", s.CreateClient(ctx, c))
	c.Name, c.Scopes, c.SecretHash, c.AuthMethod = "Renamed", storage.StringList{"twofold:admin"}, "other", "none"
	c.RedirectURIs = storage.StringList{"https://b.example/cb"}
	ok(t, "UpdateClient", s.UpdateClient(ctx, c))
	got, err := s.Client(ctx, "app")
	ok(t, "Client", err)
	if got.Name != "Renamed" || !got.Scopes.Contains("twofold:admin") || got.RedirectURIs[0] != "https://b.example/cb" {
		t.Errorf("after UpdateClient: %+v", got)
	}
	if got.SecretHash != "h" || got.AuthMethod != "client_secret_basic" {
		t.Errorf("UpdateClient changed the secret or auth method: %+v", got)
	}
	if err := s.UpdateClient(ctx, &storage.Client{ID: "nope"}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateClient of an unknown client = %v, want ErrNotFound", err)
	}
}

func testSetFactorDestination(t *testing.T, s *storage.Store) {
	ctx := t.Context()
	at := now()
	ok(t, "ReplaceSecondFactors", s.ReplaceSecondFactors(ctx, "u1", []storage.SecondFactor{
		{ID: newID(), UserID: "u1", Method: "sms", Destination: "+14155550100", CreatedAt: at},
		{ID: newID(), UserID: "u1", Method: "voice", Destination: "+14155550100", CreatedAt: at},
		{ID: newID(), UserID: "u1", Method: "email", Destination: "a@example.com", CreatedAt: at},
	}))
	ok(t, "SetFactorDestination", s.SetFactorDestination(ctx, "u1", []storage.Method{"sms", "voice"}, "+14155550111", at))
	ok(t, "SetFactorDestination", s.SetFactorDestination(ctx, "u1", []storage.Method{"email"}, "", at))
	got, err := s.SecondFactors(ctx, "u1")
	ok(t, "SecondFactors", err)
	if len(got) != 2 {
		t.Fatalf("factors = %+v, want sms and voice", got)
	}
	for _, f := range got {
		if f.Destination != "+14155550111" || f.VerifiedAt == nil {
			t.Errorf("factor %s = %+v, want the new number, verified", f.Method, f)
		}
	}

	// Methods that move vouch for the user's new number; with none to
	// move, the new number stays unverified.
	u := &storage.User{ID: newID(), Username: "erin", Phone: "+14155550122", Email: "erin@example.com", CreatedAt: at, UpdatedAt: at}
	ok(t, "CreateUser", s.CreateUser(ctx, u))
	ok(t, "SetFactorDestination without methods", s.SetFactorDestination(ctx, u.ID, []storage.Method{"sms", "voice"}, u.Phone, at))
	if got, _ := s.User(ctx, u.ID); got.PhoneVerified {
		t.Error("a phone no method uses became verified")
	}
	ok(t, "ReplaceSecondFactors", s.ReplaceSecondFactors(ctx, u.ID, []storage.SecondFactor{
		{ID: newID(), UserID: u.ID, Method: "sms", Destination: "+14155550100", VerifiedAt: &at, CreatedAt: at},
	}))
	ok(t, "SetFactorDestination", s.SetFactorDestination(ctx, u.ID, []storage.Method{"sms", "voice"}, u.Phone, at))
	if got, _ := s.User(ctx, u.ID); !got.PhoneVerified || got.EmailVerified {
		t.Errorf("after moving sms to the user's phone: phone_verified %v, email_verified %v; want true, false", got.PhoneVerified, got.EmailVerified)
	}
}
