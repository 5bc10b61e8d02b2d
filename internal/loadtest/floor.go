package loadtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/twofold-id/twofold/password"
)

// SigningFloor measures how many JWS signatures per second this machine
// makes with alg (RS256 or ES256) on every core for d: the ceiling of any
// grant that signs one token, to compare token endpoint throughput with.
func SigningFloor(alg jose.SignatureAlgorithm, d time.Duration) (float64, error) {
	var key any
	var err error
	switch alg {
	case jose.ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return 0, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return 0, err
	}
	payload := []byte(`{"iss":"https://id.example","sub":"bench","aud":["bench"],"exp":4102444800,"iat":1700000000,"jti":"0123456789abcdef"}`)
	return onAllCores(d, func() bool {
		_, err := signer.Sign(payload)
		return err == nil
	}), nil
}

// HashFloor measures how many password verifications per second p makes
// on every core for d: what a sign-in storm can reach at best with those
// argon2id parameters, whatever else the provider does.
func HashFloor(ctx context.Context, p *password.Hasher, d time.Duration) (float64, error) {
	hash, err := p.Hash(ctx, "floor-password")
	if err != nil {
		return 0, err
	}
	return onAllCores(d, func() bool {
		ok, err := p.Verify(ctx, hash, "floor-password")
		return ok && err == nil
	}), nil
}

// onAllCores calls op in a loop on every core for d and returns how many
// calls per second succeeded.
func onAllCores(d time.Duration, op func() bool) float64 {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if op() {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}
