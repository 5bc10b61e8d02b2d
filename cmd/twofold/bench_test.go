package main

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets this test binary stand in for twofold itself: with
// TWOFOLD_TEST_AS_TWOFOLD set it runs the command line instead of the
// tests, so `twofold bench` can start its replicas from os.Executable.
func TestMain(m *testing.M) {
	if os.Getenv("TWOFOLD_TEST_AS_TWOFOLD") != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// The load driver as an operator runs it: it starts a replica of this very
// binary on a new SQLite database, seeds it, reads the SMS codes from its
// fake Twilio and completes flows without an error.
func TestBenchStartsReplicasAndSignsIn(t *testing.T) {
	t.Setenv("TWOFOLD_TEST_AS_TWOFOLD", "1") // inherited by the replicas
	c := newCLI(t)
	out := c.ok("", "--json", "bench", "--cheap-hash", "--floor", "0", "--duration", "300ms",
		"--concurrency", "2", "--scenario", "discovery,client_credentials,flow")
	var results []struct {
		Scenario string `json:"scenario"`
		Ops      int    `json:"ops"`
		Errors   int    `json:"errors"`
		CPU      int64  `json:"server_cpu_per_op_ns"`
		PeakRSS  int64  `json:"peak_rss_bytes"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &results); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	if len(results) != 3 {
		t.Fatalf("%d results, want 3:\n%s", len(results), out)
	}
	for _, r := range results {
		if r.Ops == 0 || r.Errors != 0 || r.PeakRSS == 0 {
			t.Errorf("%s: %d ops, %d errors, peak RSS %d:\n%s", r.Scenario, r.Ops, r.Errors, r.PeakRSS, out)
		}
	}
	for _, want := range []string{"seeded 3 clients and 2 users", "ready in", "idle RSS"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
}
