package server

import (
	"context"
	"net/http"
	"time"

	"github.com/twofold-id/twofold/op"
)

// backchannelInterval is how often each replica looks for back-channel
// logout tokens to send.
const backchannelInterval = 5 * time.Second

// logoutRetention is how long finished back-channel deliveries are kept
// (the audit log keeps their outcome for good).
const logoutRetention = 7 * 24 * time.Hour

// RunJobs runs the background work of every replica: purging expired rows,
// rotating the signing key and delivering back-channel logout tokens. All
// are safe to run on all replicas at once (bounded deletes; rotation checks
// the key's age first; deliveries are claimed with a conditional UPDATE).
func (a *App) RunJobs(ctx context.Context) {
	go a.runBackchannel(ctx)
	purge := time.NewTicker(10 * time.Minute)
	rotate := time.NewTicker(time.Hour)
	defer purge.Stop()
	defer rotate.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-purge.C:
			n, err := a.Store.Purge(ctx, a.Now(), 5000)
			if err == nil {
				var sent int64
				sent, err = a.Store.PurgeLogoutDeliveries(ctx, a.Now().Add(-logoutRetention), 5000)
				n += sent
			}
			if err == nil {
				var counters int64
				counters, err = a.Guard().Purge(ctx, a.Now())
				n += counters
			}
			if err != nil {
				a.Log.Error("purge failed", "err", err)
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
