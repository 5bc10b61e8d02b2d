package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/testkit"
)

// The benchmarks below drive a running twofold over HTTPS with the real
// relying-party library, as the tests do. Server and client share the
// process, so ns/op and allocs/op are the whole round trip: the RP's
// request and its check of the ID token as well as the provider's work.
// Each sub-benchmark starts its own server outside the timed loop; with
// -benchtime=1x (CI) each does one iteration.

// benchDatabases runs fn as a sub-benchmark per database: SQLite always,
// PostgreSQL when TWOFOLD_TEST_POSTGRES_URL is set.
func benchDatabases(b *testing.B, fn func(b *testing.B, o testkit.ServerOptions)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, testkit.ServerOptions{}) })
	b.Run("postgres", func(b *testing.B) { fn(b, testkit.ServerOptions{DatabaseURL: testkit.PostgresURL(b)}) })
}

// withAlgorithm signs tokens with alg (keys.algorithm).
func withAlgorithm(o testkit.ServerOptions, alg string) testkit.ServerOptions {
	o.Configure = func(c *configT) { c.Keys.Algorithm = alg }
	return o
}

// jwtAlg returns the alg of a compact JWS, or "" when tok is not one.
func jwtAlg(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return ""
	}
	var h struct{ Alg string }
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Alg
}

// BenchmarkTokenClientCredentials is one client_credentials grant of a
// machine client (client_secret_basic): an opaque access token, stored
// hashed, or a JWT access token signed with RS256 or ES256.
func BenchmarkTokenClientCredentials(b *testing.B) {
	for _, tc := range []struct{ name, alg, format string }{
		{"opaque", "RS256", "opaque"},
		{"jwt-rs256", "RS256", "jwt"},
		{"jwt-es256", "ES256", "jwt"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			benchDatabases(b, func(b *testing.B, o testkit.ServerOptions) {
				s := testkit.NewServer(b, withAlgorithm(o, tc.alg))
				machine := s.NewRP(b, testkit.ClientOptions{GrantTypes: []string{"client_credentials"}, AccessTokenFormat: tc.format})
				ctx := context.Background()
				tok, err := rp.ClientCredentials(ctx, machine.Party, nil)
				if err != nil {
					b.Fatalf("client_credentials: %v", err)
				}
				want := map[string]string{"opaque": "", "jwt": tc.alg}[tc.format]
				if got := jwtAlg(tok.AccessToken); got != want {
					b.Fatalf("access token signed with %q, want %q", got, want)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := rp.ClientCredentials(ctx, machine.Party, nil); err != nil {
						b.Fatalf("client_credentials: %v", err)
					}
				}
			})
		})
	}
}

// ssoApp returns a server signing with alg, a confidential client with
// refresh tokens, and a browser already signed in to it (password only),
// so that further authorization codes come without a prompt.
func ssoApp(b *testing.B, o testkit.ServerOptions, alg string) (*testkit.Server, *testkit.RP, *testkit.Browser) {
	b.Helper()
	s := testkit.NewServer(b, withAlgorithm(o, alg))
	s.CreateUser(b, "alice", "alice-password")
	app := s.NewRP(b, testkit.ClientOptions{})
	browser := s.NewBrowser(b)
	tokens := app.Login(browser, "alice", "alice-password")
	if got := jwtAlg(tokens.IDToken); got != alg {
		b.Fatalf("ID token signed with %q, want %q", got, alg)
	}
	return s, app, browser
}

// codeBatch is how many authorization codes BenchmarkTokenAuthorizationCode
// prepares each time it stops the timer.
const codeBatch = 64

// BenchmarkTokenAuthorizationCode is the authorization_code grant alone:
// redeem a code with its PKCE verifier for an ID token (checked by the
// RP), an access token and a refresh token. The codes come from SSO
// sign-ins made in batches with the timer stopped.
func BenchmarkTokenAuthorizationCode(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(strings.ToLower(alg), func(b *testing.B) {
			benchDatabases(b, func(b *testing.B, o testkit.ServerOptions) {
				_, app, browser := ssoApp(b, o, alg)
				type pending struct {
					flow *testkit.Flow
					code string
				}
				var ready []pending
				b.ReportAllocs()
				for b.Loop() {
					if len(ready) == 0 {
						b.StopTimer()
						for range codeBatch {
							f := app.Start(browser, nil)
							ready = append(ready, pending{f, f.Code()})
						}
						b.StartTimer()
					}
					p := ready[len(ready)-1]
					ready = ready[:len(ready)-1]
					tokens, err := p.flow.Exchange(p.code)
					if err != nil {
						b.Fatalf("code exchange: %v", err)
					}
					if tokens.RefreshToken == "" {
						b.Fatal("no refresh token")
					}
				}
			})
		})
	}
}

// BenchmarkTokenRefresh is one refresh_token grant with rotation, walking
// one token family as a long-lived client does: each iteration redeems
// the token the previous one received, and gets a new ID token.
func BenchmarkTokenRefresh(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(strings.ToLower(alg), func(b *testing.B) {
			benchDatabases(b, func(b *testing.B, o testkit.ServerOptions) {
				_, app, browser := ssoApp(b, o, alg)
				f := app.Start(browser, nil)
				tokens, err := f.Exchange(f.Code())
				if err != nil {
					b.Fatal(err)
				}
				refresh := tokens.RefreshToken
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					next, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, app.Party, refresh, "", "")
					if err != nil {
						b.Fatalf("refresh: %v", err)
					}
					if next.RefreshToken == "" || next.RefreshToken == refresh {
						b.Fatal("refresh token not rotated")
					}
					refresh = next.RefreshToken
				}
			})
		})
	}
}

// BenchmarkAuthorizeSSO is a sign-in answered from the SSO session: the
// session lookup behind /authorize and /login, the callback and the
// redirect to the client with a code (no token exchange).
func BenchmarkAuthorizeSSO(b *testing.B) {
	benchDatabases(b, func(b *testing.B, o testkit.ServerOptions) {
		_, app, browser := ssoApp(b, o, "RS256")
		b.ReportAllocs()
		for b.Loop() {
			app.Start(browser, nil).Code()
		}
	})
}

// smsServer is a server that texts codes through the fake Twilio API, with
// the send limits out of the way of a benchmark that signs in thousands of
// times (they are counters in the database all the same, so their cost is
// measured).
func smsServer(tb testing.TB, o testkit.ServerOptions) (*testkit.Server, *testkit.FakeTwilio) {
	tb.Helper()
	tw := testkit.NewTwilio(tb)
	o.Twilio = tw
	o.Configure = func(c *configT) {
		const many = 1 << 30
		l := &c.Limits
		l.DestinationPer10m, l.DestinationPerDay, l.IPSendsPer10m, l.SMSCountryDaily, l.SMSGlobalHourly = many, many, many, many, many
		// Cheap argon2id (64 KiB, one pass; testkit's test setting, set
		// here so it is plain): the production default (19 MiB, t=2)
		// costs tens of milliseconds per sign-in and would hide
		// everything else this benchmark measures.
		c.Password.MemoryKiB, c.Password.Iterations, c.Password.Parallelism = 64, 1, 1
	}
	s := testkit.NewServer(tb, o)
	s.CreateUserWith(tb, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	return s, tw
}

// BenchmarkSignInPasswordSMS is a whole first sign-in of a new browser:
// authorize, password, the code texted through the fake Twilio API,
// callback, code exchange (ID token checked by the RP).
func BenchmarkSignInPasswordSMS(b *testing.B) {
	benchDatabases(b, func(b *testing.B, o testkit.ServerOptions) {
		s, tw := smsServer(b, o)
		app := s.NewRP(b, testkit.ClientOptions{})
		b.ReportAllocs()
		for b.Loop() {
			f := app.Start(s.NewBrowser(b), nil).Password("alice", "alice-password")
			f.SubmitCode(tw.LastCode(alicePhone))
			tokens, err := f.Exchange(f.Code())
			if err != nil {
				b.Fatalf("code exchange: %v", err)
			}
			if amr := tokens.IDTokenClaims.AuthenticationMethodsReferences; len(amr) != 3 || amr[1] != "sms" {
				b.Fatalf("amr = %v", amr)
			}
		}
	})
}
