package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
)

// flowQueries is the number of database statements each step of a full
// sign-in costs once the server is warm (Store.Queries; BEGIN and COMMIT
// are not counted). The counts are exact, so that a change that adds a
// round trip to the hottest path — or saves one — is noticed: when this
// test fails, check that the difference is intended, then update the
// table in the same change and say why in its description.
var flowQueries = []struct {
	step             string
	sqlite, postgres int64
}{
	{"authorize", 5, 5},  // GET /authorize, redirect, GET /login: the password page
	{"password", 21, 21}, // POST /login/password, the SMS sent, GET /login/code
	{"code", 10, 10},     // POST /login/code: the code checked, the session made
	{"callback", 3, 3},   // GET /authorize/callback: the code issued
	{"token", 7, 7},      // authorization_code grant: code redeemed, tokens stored
	{"userinfo", 3, 3},
	{"refresh", 8, 8}, // refresh_token grant with rotation
}

// TestQueriesPerFlow counts the statements of one full sign-in with
// password and SMS code, then the token exchange, userinfo and one
// refresh, step by step, against flowQueries.
func TestQueriesPerFlow(t *testing.T) {
	databases(t, func(t *testing.T, o testkit.ServerOptions) {
		s, tw := smsServer(t, o)
		app := s.NewRP(t, testkit.ClientOptions{})
		store := s.App.Store
		store.CountQueries()
		// A first sign-in warms what is loaded once (the signing key, the
		// RP's copy of the JWKS); the second is the one counted.
		t.Logf("first sign-in: %v", countFlow(t, s, tw, app))
		got := countFlow(t, s, tw, app)
		t.Logf("warm sign-in: %v", got)
		if len(got) != len(flowQueries) {
			t.Fatalf("%d steps counted, flowQueries has %d", len(got), len(flowQueries))
		}
		var total int64
		for i, want := range flowQueries {
			w := want.sqlite
			if store.IsPostgres() {
				w = want.postgres
			}
			total += got[i].n
			if got[i].step != want.step || got[i].n != w {
				t.Errorf("step %s: %d statements, want %d (see flowQueries)", got[i].step, got[i].n, w)
			}
		}
		t.Logf("total: %d statements", total)
	})
}

// stepCount is the statements one step of countFlow sent.
type stepCount struct {
	step string
	n    int64
}

func (c stepCount) String() string { return fmt.Sprintf("%s=%d", c.step, c.n) }

// countFlow signs in a new browser with password and SMS code and uses the
// tokens, counting the statements of each step.
func countFlow(t *testing.T, s *testkit.Server, tw *testkit.FakeTwilio, app *testkit.RP) []stepCount {
	t.Helper()
	store := s.App.Store
	var out []stepCount
	step := func(name string, fn func()) {
		before := store.Queries()
		fn()
		out = append(out, stepCount{name, store.Queries() - before})
	}
	var (
		f      *testkit.Flow
		tokens *oidc.Tokens[*oidc.IDTokenClaims]
	)
	ctx := context.Background()
	step("authorize", func() { f = app.Start(s.NewBrowser(t), nil) })
	step("password", func() { f.Password("alice", "alice-password") })
	step("code", func() {
		form := url.Values{"authRequestID": {f.Page.Field("authRequestID")}, "code": {tw.LastCode(alicePhone)}}
		f.Page = f.B.Post("/login/code", form)
	})
	if f.Page.Location == "" {
		t.Fatalf("code not accepted: %s", f.Page)
	}
	step("callback", func() {
		for i := 0; i < 5 && !strings.HasPrefix(f.Page.Location, app.RedirectURI); i++ {
			f.Page = f.B.Get(f.Page.Location)
		}
	})
	step("token", func() {
		var err error
		if tokens, err = f.Exchange(f.Code()); err != nil {
			t.Fatalf("code exchange: %v", err)
		}
	})
	step("userinfo", func() {
		info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, "Bearer", tokens.IDTokenClaims.Subject, app.Party)
		if err != nil || info.PreferredUsername != "alice" {
			t.Fatalf("userinfo = %+v, %v", info, err)
		}
	})
	step("refresh", func() {
		if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, tokens.RefreshToken, "", ""); err != nil {
			t.Fatalf("refresh: %v", err)
		}
	})
	return out
}
