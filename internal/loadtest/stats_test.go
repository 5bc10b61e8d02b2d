package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/twofold-id/twofold/password"
)

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.5, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
		}
	}
}

func TestProcUsageOfSelf(t *testing.T) {
	busy := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(busy) { // burn some CPU so there is a tick to read
	}
	u := procUsage(os.Getpid())
	if !u.ok || u.rss <= 0 {
		t.Fatalf("procUsage(self) = %+v, want CPU and RSS", u)
	}
	if procUsage(-1).ok {
		t.Error("procUsage of no process reported ok")
	}
}

func TestScrapeMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# HELP process_cpu_seconds_total x\n# TYPE process_cpu_seconds_total counter\n" +
			"process_cpu_seconds_total 12.5\nprocess_resident_memory_bytes 2.5e+07\ngo_goroutines 9\n"))
	}))
	defer srv.Close()
	u := Probe{metrics: srv.URL, client: srv.Client()}.read(context.Background())
	if !u.ok || u.cpu != 12500*time.Millisecond || u.rss != 25_000_000 {
		t.Fatalf("scrape = %+v, want 12.5s CPU and 25 MB", u)
	}
	srv.Close()
	if (Probe{metrics: srv.URL, client: srv.Client()}).read(context.Background()).ok {
		t.Error("a server that is gone reported ok")
	}
}

func TestFloors(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		if n, err := SigningFloor(alg, 50*time.Millisecond); err != nil || n <= 0 {
			t.Errorf("SigningFloor(%s) = %v, %v", alg, n, err)
		}
	}
	p := password.NewHasher(64, 1, 1, 2, time.Second)
	if n, err := HashFloor(context.Background(), p, 50*time.Millisecond); err != nil || n <= 0 {
		t.Errorf("HashFloor = %v, %v", n, err)
	}
}
