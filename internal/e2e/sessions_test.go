package e2e

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
)

// TestRevokeHoldsOnEveryReplica runs two provider processes on one
// PostgreSQL database, as replicas behind a load balancer do: sessions
// ended through one replica's admin API end at once on the other (SSO
// cookie, refresh tokens, introspection), with no cache in between.
func TestRevokeHoldsOnEveryReplica(t *testing.T) {
	db := testkit.PostgresURL(t)
	a := testkit.NewServer(t, testkit.ServerOptions{DatabaseURL: db})
	b := testkit.NewServer(t, testkit.ServerOptions{DatabaseURL: db})
	a.CreateUser(t, "alice", "alice-password")
	a.CreateUser(t, "bob", "bob-password")
	app := a.NewRP(t, testkit.ClientOptions{})
	aliceBrowser, bobBrowser := a.NewBrowser(t), a.NewBrowser(t)
	alice := app.Login(aliceBrowser, "alice", "alice-password")
	bob := app.Login(bobBrowser, "bob", "bob-password")

	// The admin works on replica b; the users stay on replica a.
	api, _ := bootstrapAdmin(t, b)
	if got := list(api.want(200, "GET", "/sessions?user=alice", nil)["sessions"]); len(got) != 1 {
		t.Fatalf("replica b lists alice's sessions as %v", got)
	}
	api.want(200, "POST", "/sessions/revoke", map[string]any{"user": "alice"})
	assertSignedOut(t, a, app, aliceBrowser, alice)
	assertSignedIn(t, a, app, bobBrowser, bob)

	// Everyone: each replica has its own clock; move both past the other.
	a.Clock.Advance(time.Second)
	b.Clock.Advance(2 * time.Second)
	api.want(200, "POST", "/sessions/revoke", map[string]any{"all": true})
	assertSignedOut(t, a, app, bobBrowser, bob)

	a.Clock.Advance(time.Minute)
	again := app.Login(a.NewBrowser(t), "bob", "bob-password")
	if !active(t, a, app, again.AccessToken) {
		t.Fatal("a sign-in after revoke-all does not work")
	}
}
