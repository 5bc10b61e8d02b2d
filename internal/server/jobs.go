package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/twofold-id/twofold/op"
)

// backchannelInterval is how often each replica looks for back-channel
// logout tokens to send.
const backchannelInterval = 5 * time.Second

// logoutRetention is how long finished back-channel deliveries are kept
// (the audit log keeps their outcome for good).
const logoutRetention = 7 * 24 * time.Hour

// purgeBatch and purgeRounds bound one purge run (see Purge): at most
// 500 000 rows of each kind.
const (
	purgeBatch  = 5000
	purgeRounds = 100
)

// RunJobs runs the background work of every replica: purging expired rows,
// rotating the signing key and delivering back-channel logout tokens. All
// are safe to run on all replicas at once (bounded deletes; rotation checks
// the key's age first; deliveries are claimed with a conditional UPDATE).
// It returns once ctx ends and every job has stopped, so that the store can
// be closed after it.
func (a *App) RunJobs(ctx context.Context) {
	var backchannel sync.WaitGroup
	backchannel.Go(func() { a.runBackchannel(ctx) })
	defer backchannel.Wait()
	purge := time.NewTicker(10 * time.Minute)
	rotate := time.NewTicker(time.Hour)
	defer purge.Stop()
	defer rotate.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-purge.C:
			if n, err := a.Purge(ctx); err != nil {
				a.Log.Error("purge failed", "err", err, "rows", n)
			} else if n > 0 {
				a.Log.Info("purged expired records", "rows", n)
			}
		case <-rotate.C:
			if a.Cfg.Keys.RotationPeriod <= 0 {
				continue
			}
			if rotated, err := a.Keys.RotateIfOlder(ctx, a.Cfg.Keys.RotationPeriod.D()); err != nil {
				a.Log.Error("key rotation failed", "err", err)
			} else if rotated {
				a.Log.Info("rotated the signing key")
			}
		}
	}
}

// Purge deletes expired records, finished deliveries and stale abuse
// counters, and reports how many rows went. Every statement deletes at most
// purgeBatch rows (its own short transaction, found through an expiry
// index), and a run stops after purgeRounds rounds, so that a backlog of
// millions is worked off over a few runs instead of in one huge
// transaction, while a run still outpaces what a busy provider expires in
// ten minutes (one round of 5000 rows per kind would not).
func (a *App) Purge(ctx context.Context) (int64, error) {
	var total int64
	for _, purge := range []func() (int64, error){
		func() (int64, error) { return a.Store.Purge(ctx, a.Now(), purgeBatch) },
		func() (int64, error) {
			return a.Store.PurgeLogoutDeliveries(ctx, a.Now().Add(-logoutRetention), purgeBatch)
		},
	} {
		n, err := a.purgeRounds(ctx, purge)
		total += n
		if err != nil {
			return total, err
		}
	}
	n, err := a.Guard().Purge(ctx, a.Now()) // bounded the same way
	return total + n, err
}

// purgeRounds calls purge until a round finds less than a full batch of
// each kind (each is capped at purgeBatch, so none has more left), at most
// purgeRounds times. After a full round it pauses as long as the round
// took: a backlog keeps one database connection busy at most half the
// time, and requests keep the rest.
func (a *App) purgeRounds(ctx context.Context, purge func() (int64, error)) (int64, error) {
	var total int64
	for range purgeRounds {
		start := a.Now()
		n, err := purge()
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
		pause := time.NewTimer(a.Now().Sub(start))
		select {
		case <-ctx.Done():
			pause.Stop()
			return total, ctx.Err()
		case <-pause.C:
		}
	}
	return total, nil
}

// runBackchannel delivers back-channel logout tokens every few seconds, on
// its own so that a client that is down delays neither the other jobs nor
// any request.
func (a *App) runBackchannel(ctx context.Context) {
	tick := time.NewTicker(backchannelInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, _, err := a.RunBackchannel(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("back-channel logout delivery failed", "err", err)
			}
		}
	}
}

// RunBackchannel sends the back-channel logout tokens due now (one bounded
// batch) and reports how many were delivered and how many attempts failed.
// Tests call it to drive delivery without waiting for the ticker.
func (a *App) RunBackchannel(ctx context.Context) (delivered, failed int, err error) {
	b := op.NewBackchannel(a.Store, a.Keys, a.Cfg.Issuer, &http.Client{}, a.Now, a.Log)
	delivered, failed, err = b.RunOnce(ctx)
	if delivered+failed > 0 {
		a.Log.Info("back-channel logout", "delivered", delivered, "failed", failed)
	}
	return delivered, failed, err
}
