package storage_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// benchStore opens a migrated SQLite store, the default deployment.
func benchStore(b *testing.B) *storage.Store {
	b.Helper()
	s, err := storage.Open("sqlite:"+filepath.Join(b.TempDir(), "bench.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkActiveSession is the SSO check every /login and /authorize makes.
func BenchmarkActiveSession(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	now := time.Now().UTC()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = rand.Text()
		sess := &storage.Session{
			ID: ids[i], UserID: "u1", AuthTime: now, AMR: storage.StringList{"pwd", "otp"},
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(90 * 24 * time.Hour),
		}
		if err := s.CreateSession(ctx, sess); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := s.ActiveSession(ctx, ids[i%len(ids)], now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRedeemAuthCode is the storage side of one sign-in: create the
// request, complete it, save its code, redeem the code.
func BenchmarkRedeemAuthCode(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	now := time.Now().UTC()
	done := storage.Completion{UserID: "u1", SessionID: "s1", AuthTime: now, AMR: []string{"pwd", "sms", "mfa"}, ACR: "2fa"}
	for b.Loop() {
		a := &storage.AuthRequest{
			ID: rand.Text(), ClientID: "app", RedirectURI: "https://app.example/cb", ResponseType: "code",
			Scopes: storage.StringList{"openid", "profile"}, CodeChallenge: "x", CodeChallengeMethod: "S256",
			CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute),
		}
		if err := s.CreateAuthRequest(ctx, a); err != nil {
			b.Fatal(err)
		}
		if err := s.CompleteAuthRequest(ctx, a.ID, done, now); err != nil {
			b.Fatal(err)
		}
		if err := s.SaveAuthCode(ctx, a.ID, rand.Text(), now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		if err := s.RedeemAuthCode(ctx, a.ID, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRotateRefreshToken walks one refresh-token family, one rotation
// per iteration, as a long-lived client would.
func BenchmarkRotateRefreshToken(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	now := time.Now().UTC()
	mk := func() *storage.RefreshToken {
		return &storage.RefreshToken{
			ID: rand.Text(), TokenHash: rand.Text(), FamilyID: "fam", ClientID: "app", UserID: "u1",
			Scopes: storage.StringList{"openid", "offline_access"}, AuthTime: now,
			CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour),
		}
	}
	cur := mk()
	if err := s.CreateRefreshToken(ctx, cur); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		next := mk()
		if err := s.RotateRefreshToken(ctx, cur.ID, next, now); err != nil {
			b.Fatal(err)
		}
		cur = next
	}
}

// BenchmarkVerifyChallenge is the storage side of one code submission:
// find the live challenge, count the guess, consume it. Challenges are
// created in batches with the timer stopped.
func BenchmarkVerifyChallenge(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	now := time.Now().UTC()
	var ready []*storage.Challenge
	for b.Loop() {
		if len(ready) == 0 {
			b.StopTimer()
			for range 256 {
				c := &storage.Challenge{ID: rand.Text(), AuthRequestID: rand.Text(), UserID: "u1", Method: "sms", Channel: "sms",
					CodeHash: rand.Text(), MaxAttempts: 5, CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
				if err := s.CreateChallenge(ctx, c); err != nil {
					b.Fatal(err)
				}
				ready = append(ready, c)
			}
			b.StartTimer()
		}
		c := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		got, err := s.LatestChallenge(ctx, c.AuthRequestID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.SpendAttempt(ctx, got.ID, now); err != nil {
			b.Fatal(err)
		}
		if err := s.UseChallenge(ctx, got.ID, now); err != nil {
			b.Fatal(err)
		}
	}
}
