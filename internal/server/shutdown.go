package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Listeners are the sockets a provider serves on.
type Listeners struct {
	// Main serves everything (/metrics too, unless Metrics is set).
	Main net.Listener
	// Metrics, when not nil, serves /metrics alone (metrics.listen).
	Metrics net.Listener
}

// Serve serves until ctx ends, then stops without refusing traffic a load
// balancer still sends: /readyz answers 503 at once while every other
// request is still served for shutdown.delay (or until Hurry); then the
// listeners close and requests in flight get shutdown.timeout to finish,
// after which their connections are closed. The background jobs run
// meanwhile and are stopped and waited for before Serve returns, so the
// caller may close the store.
func (a *App) Serve(ctx context.Context, l Listeners, handler http.Handler) error {
	servers := []*http.Server{a.httpServer(handler)}
	listeners := []net.Listener{l.Main}
	if l.Metrics != nil {
		servers = append(servers, a.httpServer(a.metricsHandler()))
		listeners = append(listeners, l.Metrics)
	}
	jobs, stopJobs := context.WithCancel(ctx)
	var running sync.WaitGroup
	running.Go(func() { a.RunJobs(jobs) })
	defer running.Wait()
	defer stopJobs()

	failed := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				failed <- err
			}
		}()
	}
	select {
	case err := <-failed: // a listener broke: nothing to drain for
		for _, srv := range servers {
			srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	stopJobs()
	return a.drain(servers)
}

// httpServer is an http.Server with twofold's limits.
func (a *App) httpServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
}

// drain is the graceful stop of Serve. During the delay, keep-alives are
// off: each response closes its connection, so that clients (a proxy's
// connection pool, a kube-proxy route) open their next one through the
// load balancer, which by then sends it elsewhere.
func (a *App) drain(servers []*http.Server) error {
	a.draining.Store(true)
	delay, timeout := a.Cfg.Shutdown.Delay.D(), a.Cfg.Shutdown.Timeout.D()
	a.Log.Info("shutting down: /readyz answers 503; serving on while load balancers notice",
		"delay", delay, "timeout", timeout)
	for _, srv := range servers {
		srv.SetKeepAlivesEnabled(false)
	}
	wait := time.NewTimer(delay)
	select {
	case <-wait.C:
	case <-a.hurry:
		wait.Stop()
	}
	a.Log.Info("shutting down: no new connections; finishing requests in flight")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Go(func() {
			err := srv.Shutdown(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				a.Log.Warn("requests still in flight after shutdown.timeout; closing their connections", "timeout", timeout)
				err = srv.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Hurry ends the shutdown delay early (a second interrupt from a person at
// a terminal, who has no load balancer to wait for). Requests in flight
// still get shutdown.timeout.
func (a *App) Hurry() {
	a.hurryOnce.Do(func() {
		if a.hurry != nil {
			close(a.hurry)
		}
	})
}

// Draining reports whether the provider is shutting down (readiness fails).
func (a *App) Draining() bool { return a.draining.Load() }
