package loadtest

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Result is the outcome of one scenario at one concurrency.
type Result struct {
	Scenario    string        `json:"scenario"`
	Concurrency int           `json:"concurrency"`
	Ops         int           `json:"ops"`
	Errors      int           `json:"errors"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	PerSecond   float64       `json:"per_second"`
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
	// ServerCPUPerOp is the servers' CPU time (user + system, all replicas)
	// per completed operation; zero when it could not be read.
	ServerCPUPerOp time.Duration `json:"server_cpu_per_op_ns"`
	// PeakRSS is the largest resident set of any replica seen during the
	// run, in bytes; zero when it could not be read.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// StartRSS and EndRSS are the largest replica's resident set before
	// and after the run: a long run that ends far above where it started
	// is growing.
	StartRSS int64 `json:"start_rss_bytes"`
	EndRSS   int64 `json:"end_rss_bytes"`
	// FirstErrors holds a few error messages, for the operator.
	FirstErrors []string `json:"first_errors,omitempty"`
}

// recorder collects latencies and errors from the workers of one run.
type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	errors    int
	first     []string
}

func (r *recorder) ok(d time.Duration) {
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	r.mu.Unlock()
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	r.errors++
	if len(r.first) < 5 {
		r.first = append(r.first, err.Error())
	}
	r.mu.Unlock()
}

// result summarises the run; elapsed is the measured wall time.
func (r *recorder) result(scenario string, concurrency int, elapsed time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.latencies)
	slices.Sort(lat)
	res := Result{Scenario: scenario, Concurrency: concurrency, Ops: len(lat), Errors: r.errors,
		Elapsed: elapsed, FirstErrors: slices.Clone(r.first)}
	if elapsed > 0 {
		res.PerSecond = float64(len(lat)) / elapsed.Seconds()
	}
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return res
}

// percentile of sorted durations (nearest rank); 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Header is the first line of the table Row prints.
const Header = "scenario                conc      ops     req/s      p50      p99  errors  cpu/op  peak RSS"

// Row formats a result as one line of the table.
func (r Result) Row() string {
	cpu, rss := "n/a", "n/a"
	if r.ServerCPUPerOp > 0 {
		cpu = fmtDuration(r.ServerCPUPerOp)
	}
	if r.PeakRSS > 0 {
		rss = fmt.Sprintf("%.1fMiB", float64(r.PeakRSS)/(1<<20))
	}
	return fmt.Sprintf("%-22s %5d %8d %9.1f %8s %8s %7d %7s %9s", r.Scenario, r.Concurrency, r.Ops, r.PerSecond,
		fmtDuration(r.P50), fmtDuration(r.P99), r.Errors, cpu, rss)
}

// fmtDuration prints a latency compactly: 850µs, 2.31ms, 1.20s.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}
