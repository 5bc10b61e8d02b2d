package testkit

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twofold-id/twofold/config"
)

// Cluster is several twofold replicas sharing one database behind a
// round-robin load balancer: every request of a flow may land on another
// replica, as behind any stateless balancer.
type Cluster struct {
	// Server is the balancer's view: its URL is the issuer every replica
	// serves, and its App is replica 0's (they share the database).
	*Server
	Replicas []*Server

	mu    sync.Mutex
	alive []bool
	next  atomic.Uint64
	hits  []atomic.Int64
}

// NewCluster starts n replicas on the database of o (use a PostgreSQL URL)
// behind a TLS round-robin proxy.
func NewCluster(t testing.TB, n int, o ServerOptions) *Cluster {
	t.Helper()
	c := &Cluster{alive: make([]bool, n), hits: make([]atomic.Int64, n)}
	front := httptest.NewUnstartedServer(c)
	front.StartTLS()
	t.Cleanup(front.Close)
	configure := o.Configure
	o.Configure = func(cfg *config.Config) {
		if configure != nil {
			configure(cfg)
		}
		cfg.Issuer = front.URL
	}
	backend := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback test replicas
	for i := range n {
		r := NewServer(t, o)
		c.Replicas = append(c.Replicas, r)
		c.alive[i] = true
		target, _ := url.Parse("https://" + r.addr)
		proxy := &httputil.ReverseProxy{Transport: backend, Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		}, ErrorHandler: proxyError}
		r.proxy = proxy
	}
	first := c.Replicas[0]
	c.Server = &Server{URL: front.URL, App: first.App, Clock: first.Clock, Log: first.Log, t: t, cfg: first.cfg,
		pool: front.Client().Transport.(*http.Transport)}
	return c
}

// ServeHTTP sends each request to the next live replica. A replica that
// refuses the connection (it was stopped between the choice and the dial,
// so nothing reached it) is skipped and the request goes to the next one,
// as real balancers retry a failed connect.
func (c *Cluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "request body", http.StatusBadRequest)
		return
	}
	for range 2 * len(c.Replicas) {
		i := int(c.next.Add(1) % uint64(len(c.Replicas)))
		c.mu.Lock()
		alive := c.alive[i]
		c.mu.Unlock()
		if !alive {
			continue
		}
		refused := false
		attempt := r.Clone(context.WithValue(r.Context(), refusedKey{}, &refused))
		attempt.Body = io.NopCloser(bytes.NewReader(body))
		c.Replicas[i].proxy.ServeHTTP(w, attempt)
		if !refused {
			c.hits[i].Add(1)
			return
		}
	}
	http.Error(w, "no replica", http.StatusBadGateway)
}

type refusedKey struct{}

// proxyError marks a failed connect for ServeHTTP to retry elsewhere; any
// other failure (the replica took the request) is a 502, as from a real
// balancer.
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var op *net.OpError
	if refused, ok := r.Context().Value(refusedKey{}).(*bool); ok && errors.As(err, &op) && op.Op == "dial" {
		*refused = true
		return
	}
	w.WriteHeader(http.StatusBadGateway)
}

// Drain takes replica i out of rotation and stops it gracefully (SIGTERM):
// requests in flight on it finish, new ones go elsewhere.
func (c *Cluster) Drain(i int) {
	c.mu.Lock()
	c.alive[i] = false
	c.mu.Unlock()
	c.Replicas[i].Stop()
}

// Hits reports how many requests each replica served.
func (c *Cluster) Hits() []int64 {
	out := make([]int64, len(c.hits))
	for i := range c.hits {
		out[i] = c.hits[i].Load()
	}
	return out
}
