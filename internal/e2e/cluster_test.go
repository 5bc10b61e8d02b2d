package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/storage"
)

// Three replicas share one PostgreSQL behind a round-robin balancer: every
// step of a sign-in lands on another replica than the one before.
func TestClusterOfThreeReplicas(t *testing.T) {
	tw := testkit.NewTwilio(t)
	c := testkit.NewCluster(t, 3, testkit.ServerOptions{DatabaseURL: testkit.PostgresURL(t), Twilio: tw})
	alice := c.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := c.NewRP(t, testkit.ClientOptions{})

	// A sign-in begun on one replica, its code sent by another and checked by
	// a third, finishes on yet another.
	f := app.Start(c.NewBrowser(t), nil).Password("alice", "alice-password")
	tokens, err := f.SubmitCode(tw.LastCode(alicePhone)).Exchange(f.Code())
	if err != nil {
		t.Fatalf("flow across replicas: %v", err)
	}
	ctx := context.Background()
	for i := range 3 { // refresh rotation on each replica in turn
		if tokens, err = rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, tokens.RefreshToken, "", ""); err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	for i, n := range c.Hits() {
		if n == 0 {
			t.Errorf("replica %d served nothing: %v", i, c.Hits())
		}
	}

	// A policy change and a revocation made once hold on every replica at once.
	putPolicy(t, c.Server, storage.Policy{Scope: storage.ScopeGlobal, SecondFactor: "off"})
	for range 3 {
		if f := app.Start(c.NewBrowser(t), nil).Password("alice", "alice-password"); strings.Contains(f.Page.Body, "one-time-code") {
			t.Fatal("a replica still asked for a code after the policy turned it off")
		}
	}
	c.Clock.Advance(1) // the mark voids what was issued strictly before it
	if err := c.App.Store.RevokeUser(ctx, alice, c.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, "Bearer", alice, app.Party); err == nil {
			t.Fatalf("userinfo on replica %d accepted a revoked user's token", i)
		}
	}
}

// Draining one replica (as SIGTERM does) fails no flow: what is in flight on
// it finishes, and the balancer sends the rest elsewhere.
func TestClusterDrainFailsNoFlow(t *testing.T) {
	c := testkit.NewCluster(t, 3, testkit.ServerOptions{DatabaseURL: testkit.PostgresURL(t)})
	app := c.NewRP(t, testkit.ClientOptions{})
	const workers, rounds = 6, 6
	for w := range workers {
		c.CreateUser(t, fmt.Sprintf("user%d", w), "user-password")
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []string
		started  = make(chan struct{}, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				b := c.NewBrowser(t)
				f := app.Start(b, nil)
				if f.Page.Field("authRequestID") == "" {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("worker %d round %d: %s", w, r, f.Page))
					mu.Unlock()
					continue
				}
				f.Password(fmt.Sprintf("user%d", w), "user-password")
				if _, err := f.Exchange(codeOf(f.Page.Location)); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("worker %d round %d: %v", w, r, err))
					mu.Unlock()
				}
				if r == 0 {
					started <- struct{}{}
				}
			}
		})
	}
	for range workers {
		<-started
	}
	c.Drain(1)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d flows failed while a replica drained:\n%s", len(failures), strings.Join(failures, "\n"))
	}
}

// codeOf extracts the code of a redirect to the client.
func codeOf(location string) string {
	_, q, _ := strings.Cut(location, "?")
	for _, kv := range strings.Split(q, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "code" {
			return v
		}
	}
	return ""
}
