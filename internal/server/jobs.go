package server

import (
	"context"
	"time"
)

// RunJobs runs the background work of every replica: purging expired rows
// and rotating the signing key. Both are safe to run on all replicas at
// once (bounded deletes; rotation checks the key's age first).
func (a *App) RunJobs(ctx context.Context) {
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
