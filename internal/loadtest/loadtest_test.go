package loadtest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/internal/loadtest"
	"github.com/twofold-id/twofold/internal/testkit"
)

// TestScenarios runs every scenario of the driver briefly against a real
// server (SQLite, or PostgreSQL when TWOFOLD_TEST_POSTGRES_URL is set) with
// the fake Twilio: each must complete operations without one error.
// TWOFOLD_TEST_LOAD_DURATION lengthens the runs and
// TWOFOLD_TEST_LOAD_SCENARIOS picks some, to profile with -cpuprofile.
func TestScenarios(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { runScenarios(t, "") })
	t.Run("postgres", func(t *testing.T) { runScenarios(t, testkit.PostgresURL(t)) })
}

func runScenarios(t *testing.T, databaseURL string) {
	d := 300 * time.Millisecond
	if v := os.Getenv("TWOFOLD_TEST_LOAD_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	tw := testkit.NewTwilio(t)
	s := testkit.NewServer(t, testkit.ServerOptions{DatabaseURL: databaseURL, Twilio: tw, Configure: liftLimits})
	const workers = 4
	env := &loadtest.Env{Targets: []string{s.URL}, LastCode: tw.LastCode}
	env.Prepare(workers, true)
	ctx := context.Background()
	if err := loadtest.Seed(ctx, s.App, env, workers); err != nil {
		t.Fatal(err)
	}
	names := loadtest.ScenarioNames()
	if v := os.Getenv("TWOFOLD_TEST_LOAD_SCENARIOS"); v != "" {
		names = strings.Split(v, ",")
	}
	for _, name := range names {
		res, err := loadtest.Run(ctx, env, name, workers, d, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Log(res.Row())
		if res.Errors > 0 || res.Ops == 0 {
			t.Errorf("%s: %d ops, %d errors: %v", name, res.Ops, res.Errors, res.FirstErrors)
		}
	}
	if n := len(tw.Messages()); n == 0 {
		t.Error("no SMS reached the fake Twilio")
	}
}

// liftLimits opens the abuse limits as `twofold bench` does for the
// replicas it starts: every sign-in comes from one IP and a few numbers.
func liftLimits(cfg *config.Config) {
	l := &cfg.Limits
	l.DestinationPer10m, l.DestinationPerDay, l.IPSendsPer10m, l.IPFailures = 1e9, 1e9, 1e9, 1e9
	l.SMSCountryDaily, l.SMSGlobalHourly = 1e9, 1e9
}
