package e2e

// The security suite's sessions: what a client's id_token_hint may and may
// not do with the SSO session of the browser that carries it.

import (
	"net/http"
	"testing"

	"github.com/twofold-id/twofold/internal/testkit"
)

// prompt=none with an id_token_hint for another user than the one signed
// in answers login_required (OIDC Core 3.1.2.1), never a code for the user
// the client did not ask about; without prompt=none the browser is asked to
// sign in instead of the session answering. The hint of the user signed in
// still gets a code at once.
func TestSecurityPromptNoneHintForAnotherUser(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "alice", "alice-password")
	s.CreateUser(t, "bob", "bob-password")
	app := s.NewRP(t, testkit.ClientOptions{})
	bob := app.Login(s.NewBrowser(t), "bob", "bob-password")
	b := s.NewBrowser(t)
	alice := app.Login(b, "alice", "alice-password")

	q := app.Start(b, testkit.AuthParams{"prompt": "none", "id_token_hint": bob.IDToken}).Callback()
	if q.Get("error") != "login_required" || q.Get("code") != "" {
		t.Fatalf("prompt=none with another user's hint: %v, want login_required and no code", q)
	}
	if f := app.Start(b, testkit.AuthParams{"id_token_hint": bob.IDToken}); f.Page.Status != http.StatusOK || f.Page.Field("authRequestID") == "" {
		t.Fatalf("another user's hint without prompt=none: want the password page, got %s", f.Page)
	}
	if got := auditDetails(t, s, "sso_refused"); len(got) != 2 {
		t.Errorf("sso_refused audit events: %v, want 2", got)
	}

	f := app.Start(b, testkit.AuthParams{"prompt": "none", "id_token_hint": alice.IDToken})
	tokens, err := f.Exchange(f.Code())
	if err != nil {
		t.Fatal(err)
	}
	if tokens.IDTokenClaims.Subject != alice.IDTokenClaims.Subject {
		t.Fatalf("prompt=none with the signed-in user's hint signed in %q, want %q", tokens.IDTokenClaims.Subject, alice.IDTokenClaims.Subject)
	}
	noServerErrors(t, s)
}
