// Package loadtest is twofold's load driver (`twofold bench`): closed-loop
// workers that drive discovery, JWKS, client_credentials, refresh-token
// rotation and the whole authorization-code flow with an SMS code against
// one or several replicas, and report throughput, latency percentiles,
// errors, server CPU per operation and peak memory.
package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Prepare finishes an Env for runs: the shared HTTP transport for at most
// conns concurrent workers.
func (e *Env) Prepare(conns int, insecureTLS bool) {
	e.transport = newTransport(conns, insecureTLS)
	e.http = &http.Client{Transport: e.transport, Timeout: 30 * time.Second}
}

// Run drives scenario with n workers for d (after each worker's unmeasured
// set-up), each finishing the operation in hand at the end, and measures
// the servers with probes.
func Run(ctx context.Context, e *Env, name string, n int, d time.Duration, probes []Probe) (Result, error) {
	sc, ok := Scenarios[name]
	if !ok {
		return Result{}, fmt.Errorf("unknown scenario %q", name)
	}
	if len(e.Users) < n && (name == "flow" || name == "refresh") {
		return Result{}, fmt.Errorf("%s needs a user per worker: %d users for %d workers", name, len(e.Users), n)
	}
	ops := make([]op, n)
	for w := range n {
		o, err := sc(ctx, e, w)
		if err != nil {
			return Result{}, fmt.Errorf("%s worker %d: %w", name, w, err)
		}
		ops[w] = o
	}
	var rec recorder
	before := readAll(ctx, probes)
	peak := newPeakSampler(ctx, probes)
	// Workers start no operation after the deadline but finish the one in
	// hand: cutting requests off would count as errors what is only the end
	// of the run, and leave the servers cleaning up after clients that left.
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t := time.Now()
				if err := ops[w](ctx); err != nil {
					if ctx.Err() != nil {
						return // the driver is stopping
					}
					rec.fail(err)
					continue
				}
				rec.ok(time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := rec.result(name, n, elapsed)
	after := readAll(ctx, probes)
	res.PeakRSS = peak.stop()
	for i := range before {
		res.StartRSS, res.EndRSS = max(res.StartRSS, before[i].rss), max(res.EndRSS, after[i].rss)
	}
	if cpu, ok := cpuDelta(before, after); ok && res.Ops > 0 {
		res.ServerCPUPerOp = cpu / time.Duration(res.Ops)
	}
	return res, nil
}

func readAll(ctx context.Context, probes []Probe) []usage {
	out := make([]usage, len(probes))
	for i, p := range probes {
		out[i] = p.read(ctx)
	}
	return out
}

// cpuDelta sums the CPU the servers used between two readings.
func cpuDelta(before, after []usage) (time.Duration, bool) {
	var sum time.Duration
	for i := range before {
		if !before[i].ok || !after[i].ok {
			return 0, false
		}
		sum += after[i].cpu - before[i].cpu
	}
	return sum, len(before) > 0
}

// peakSampler reads the servers' memory every 200 ms and keeps the largest.
type peakSampler struct {
	stopped chan struct{}
	done    chan struct{}
	peak    int64
}

func newPeakSampler(ctx context.Context, probes []Probe) *peakSampler {
	s := &peakSampler{stopped: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, u := range readAll(ctx, probes) {
				s.peak = max(s.peak, u.rss)
			}
			select {
			case <-tick.C:
			case <-s.stopped:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return s
}

func (s *peakSampler) stop() int64 {
	close(s.stopped)
	<-s.done
	return s.peak
}

// ProcessProbe measures a local process by pid.
func ProcessProbe(pid int) Probe { return Probe{pid: pid} }

// MetricsProbe measures a server through its /metrics page.
func MetricsProbe(e *Env, base string) Probe {
	return Probe{metrics: base + "/metrics", client: e.http}
}

// Usage reads the probes once: total CPU so far and the largest RSS.
func Usage(ctx context.Context, probes []Probe) (cpu time.Duration, rss int64, ok bool) {
	us := readAll(ctx, probes)
	ok = len(us) > 0
	for _, u := range us {
		cpu += u.cpu
		rss = max(rss, u.rss)
		ok = ok && u.ok
	}
	return cpu, rss, ok
}
