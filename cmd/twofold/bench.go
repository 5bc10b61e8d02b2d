package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/internal/loadtest"
	"github.com/twofold-id/twofold/internal/loadtest/faketwilio"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/password"
	"github.com/twofold-id/twofold/storage/volume"
)

// BenchCmd is the load driver: it seeds its own clients and users, runs a
// fake Twilio for the SMS codes, and drives the provider with closed-loop
// workers.
type BenchCmd struct {
	Scenario    []string      `default:"all" placeholder:"NAME" help:"Scenarios to run, comma-separated: discovery, jwks, client_credentials, client_credentials_jwt, refresh, flow, or all."`
	Concurrency []int         `default:"1,8,32" placeholder:"N" help:"Concurrent workers, one run per value."`
	Duration    time.Duration `default:"10s" help:"Length of each run."`
	Replicas    int           `default:"1" help:"Replicas to start (when no --target is given), sharing one database."`
	DatabaseURL string        `name:"database-url" placeholder:"URL" help:"Database of the replicas it starts (default: a new SQLite file in a temporary directory)."`
	CheapHash   bool          `name:"cheap-hash" help:"Seed users with, and start replicas on, a test-cost argon2id (64 KiB, 1 pass) to measure everything but the hash."`
	Algorithm   string        `name:"keys-algorithm" default:"RS256" enum:"RS256,ES256" help:"Signing algorithm of the replicas it starts."`
	Target      []string      `placeholder:"URL" help:"Drive running servers instead of starting replicas (seeding through --config's database; their twilio.base_url must be --twilio-listen)."`
	Pid         []int         `placeholder:"PID" help:"With --target: the servers' process ids, to read their CPU and memory from /proc (else their /metrics is read)."`
	TwilioAddr  string        `name:"twilio-listen" default:"127.0.0.1:0" placeholder:"ADDR" help:"Address of the fake Twilio API the codes are sent to."`
	InsecureTLS bool          `name:"insecure-tls" help:"Accept any TLS certificate of the targets (self-signed test servers)."`
	Floor       time.Duration `default:"1s" help:"How long to measure the signing floors before the runs (0 skips)."`
	ReplicaLog  string        `name:"replica-log" placeholder:"FILE" help:"Where the replicas it starts log (default: a file in the temporary directory, kept when a run fails)."`

	VolumeUsers    int64 `name:"volume-users" placeholder:"N" help:"Before the runs, grow the database (PostgreSQL) to N filler users, volume-0000001…, whom nobody can sign in as."`
	VolumeSessions int64 `name:"volume-sessions" placeholder:"N" help:"Before the runs, grow the database to N live filler sessions, spread over the volume users."`
	VolumeExpired  int64 `name:"volume-expired" placeholder:"N" help:"Before the runs, grow the database to N expired filler sessions, auth requests, tokens and challenges (a fifth each), for the purge job."`

	failed bool
}

// Run seeds, starts what is needed, runs every scenario at every
// concurrency and prints the results.
func (c *BenchCmd) Run(ctx context.Context, g *Globals) error {
	names, err := c.scenarios()
	if err != nil {
		return err
	}
	if len(c.Concurrency) == 0 || slices.Min(c.Concurrency) < 1 {
		return errors.New("--concurrency: give one or more worker counts ≥ 1")
	}
	if c.Replicas < 1 {
		return errors.New("--replicas: must be ≥ 1")
	}
	if c.VolumeUsers < 0 || c.VolumeSessions < 0 || c.VolumeExpired < 0 {
		return errors.New("--volume-users, --volume-sessions, --volume-expired: must be ≥ 0")
	}
	fake, err := faketwilio.New(c.TwilioAddr)
	if err != nil {
		return err
	}
	defer fake.Close()
	if c.Floor > 0 {
		c.printFloors(g)
	}
	env := &loadtest.Env{LastCode: fake.LastCode}
	env.Prepare(slices.Max(c.Concurrency), c.InsecureTLS)
	var probes []loadtest.Probe
	if len(c.Target) > 0 {
		probes, err = c.external(ctx, g, env, fake)
	} else {
		var stop func()
		probes, stop, err = c.spawn(ctx, g, env, fake)
		if stop != nil {
			defer stop()
		}
	}
	if err != nil {
		return err
	}
	return c.runAll(ctx, g, env, names, probes)
}

func (c *BenchCmd) scenarios() ([]string, error) {
	var names []string
	for _, s := range c.Scenario {
		for _, n := range strings.Split(s, ",") {
			switch n = strings.TrimSpace(n); {
			case n == "all":
				names = append(names, loadtest.ScenarioNames()...)
			case loadtest.Scenarios[n] != nil:
				names = append(names, n)
			default:
				return nil, fmt.Errorf("--scenario: unknown %q (want one of %s, or all)", n, strings.Join(loadtest.ScenarioNames(), ", "))
			}
		}
	}
	return names, nil
}

func (c *BenchCmd) printFloors(g *Globals) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		if n, err := loadtest.SigningFloor(alg, c.Floor); err == nil {
			fmt.Fprintf(g.stdout, "signing floor %s: %.0f signatures/s on all cores\n", alg, n)
		}
	}
}

// spawn seeds a database and starts the replicas on it.
func (c *BenchCmd) spawn(ctx context.Context, g *Globals, env *loadtest.Env, fake *faketwilio.Server) ([]loadtest.Probe, func(), error) {
	dir, err := os.MkdirTemp("", "twofold-bench-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	dbURL := c.DatabaseURL
	if dbURL == "" {
		dbURL = "sqlite:" + filepath.Join(dir, "twofold.db")
	}
	ports, err := loadtest.FreePorts(c.Replicas)
	if err != nil {
		return nil, cleanup, err
	}
	secret, err := c.secretKey(g)
	if err != nil {
		return nil, cleanup, err
	}
	vars := loadtest.ReplicaEnv(fmt.Sprintf("http://127.0.0.1:%d", ports[0]), dbURL, dir, secret, fake.URL, fake.AccountSID, fake.AuthToken, c.CheapHash)
	vars = append(vars, "TWOFOLD_KEYS_ALGORITHM="+c.Algorithm)
	cfg, err := config.Load("", vars)
	if err != nil {
		return nil, cleanup, err
	}
	if c.Floor > 0 {
		p := cfg.Password
		pw := password.NewHasher(p.MemoryKiB, p.Iterations, p.Parallelism, p.MaxConcurrent, p.QueueTimeout.D())
		if n, err := loadtest.HashFloor(ctx, pw, c.Floor); err == nil {
			fmt.Fprintf(g.stdout, "password floor (argon2id %d KiB, t=%d): %.0f verifications/s on all cores\n", p.MemoryKiB, p.Iterations, n)
		}
	}
	if err := c.seed(ctx, g, cfg, env); err != nil {
		return nil, cleanup, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, cleanup, err
	}
	logPath := c.ReplicaLog
	if logPath == "" {
		logPath = filepath.Join(dir, "replicas.log")
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, cleanup, err
	}
	var replicas []*loadtest.Replica
	stop := func() {
		for _, r := range replicas {
			r.Stop()
		}
		logFile.Close()
		if c.failed && c.ReplicaLog == "" {
			fmt.Fprintf(g.stderr, "the replicas' log is kept in %s\n", logPath)
			return
		}
		cleanup()
	}
	var probes []loadtest.Probe
	for _, port := range ports {
		r, err := loadtest.StartReplica(ctx, exe, vars, port, logFile)
		if err != nil {
			return nil, stop, fmt.Errorf("%w (log: %s)", err, logPath)
		}
		replicas = append(replicas, r)
		env.Targets = append(env.Targets, r.URL)
		probes = append(probes, loadtest.ProcessProbe(r.Pid()))
		fmt.Fprintf(g.stdout, "replica %s ready in %s (pid %d)\n", r.URL, r.Ready.Round(100*time.Microsecond), r.Pid())
	}
	if _, rss, ok := loadtest.Usage(ctx, probes); ok {
		fmt.Fprintf(g.stdout, "idle RSS: %.1f MiB (largest replica)\n", float64(rss)/(1<<20))
	}
	return probes, stop, nil
}

// secretKey is the master key of the replicas: secret_key from the
// configuration, or a new one for the temporary SQLite database. A given
// --database-url holds records sealed with its own key, so it needs that.
func (c *BenchCmd) secretKey(g *Globals) (string, error) {
	if c.DatabaseURL == "" {
		return keyring.RandomToken(32), nil
	}
	cfg, err := loadConfig(g)
	if err != nil {
		return "", err
	}
	if cfg.SecretKey == "" {
		return "", errors.New("--database-url: set secret_key (TWOFOLD_SECRET_KEY or --config), the key that database's records are sealed with")
	}
	return cfg.SecretKey, nil
}

// external seeds through the configured database and measures the given
// servers.
func (c *BenchCmd) external(ctx context.Context, g *Globals, env *loadtest.Env, fake *faketwilio.Server) ([]loadtest.Probe, error) {
	cfg, err := loadConfig(g)
	if err != nil {
		return nil, err
	}
	if cfg.Twilio.AccountSID != "" {
		fake.AccountSID, fake.AuthToken = cfg.Twilio.AccountSID, cfg.Twilio.AuthToken
	}
	if cfg.Twilio.BaseURL != fake.URL {
		fmt.Fprintf(g.stderr, "warning: twilio.base_url is %q, but the codes are read from the fake Twilio at %s\n", cfg.Twilio.BaseURL, fake.URL)
	}
	if err := c.seed(ctx, g, cfg, env); err != nil {
		return nil, err
	}
	env.Targets = c.Target
	var probes []loadtest.Probe
	for i, t := range c.Target {
		if i < len(c.Pid) {
			probes = append(probes, loadtest.ProcessProbe(c.Pid[i]))
		} else {
			probes = append(probes, loadtest.MetricsProbe(env, strings.TrimSuffix(t, "/")))
		}
	}
	return probes, nil
}

// seed creates the driver's clients and one user per worker.
func (c *BenchCmd) seed(ctx context.Context, g *Globals, cfg config.Config, env *loadtest.Env) error {
	a, err := server.Open(ctx, cfg, server.NewLogger(cfg.Log, g.stderr), server.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Keys.EnsureKey(ctx); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	start := time.Now()
	if err := loadtest.Seed(ctx, a, env, slices.Max(c.Concurrency)); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(g.stdout, "seeded 3 clients and %d users in %s\n", len(env.Users), time.Since(start).Round(time.Millisecond))
	return c.seedVolume(ctx, g, a)
}

// seedVolume grows the database to the --volume-* counts, so that the runs
// measure the provider at a large deployment's size.
func (c *BenchCmd) seedVolume(ctx context.Context, g *Globals, a *server.App) error {
	if c.VolumeUsers == 0 && c.VolumeSessions == 0 && c.VolumeExpired == 0 {
		return nil
	}
	// The hash of a password nobody keeps: sign-ins as volume users cost
	// what real ones do, and none succeeds.
	hash, err := a.Passwords().Hash(ctx, keyring.RandomToken(32))
	if err != nil {
		return err
	}
	start := time.Now()
	want := volume.Size{Users: c.VolumeUsers, Sessions: c.VolumeSessions, Expired: c.VolumeExpired, PasswordHash: hash}
	added, err := volume.Seed(ctx, a.Store, want, a.Now())
	if err != nil {
		return fmt.Errorf("--volume-*: %w", err)
	}
	took := time.Since(start).Round(time.Millisecond)
	have, err := volume.Count(ctx, a.Store, a.Now())
	if err != nil {
		return fmt.Errorf("--volume-*: %w", err)
	}
	fmt.Fprintf(g.stdout, "volume: added %d users, %d live sessions, %d expired records in %s; now %d users, %d live sessions, %d expired records\n",
		added.Users, added.Sessions, added.Expired, took, have.Users, have.Sessions, have.Expired)
	return nil
}

func (c *BenchCmd) runAll(ctx context.Context, g *Globals, env *loadtest.Env, names []string, probes []loadtest.Probe) error {
	var results []loadtest.Result
	if !g.JSON {
		fmt.Fprintln(g.stdout, loadtest.Header)
	}
	for _, name := range names {
		for _, n := range c.Concurrency {
			res, err := loadtest.Run(ctx, env, name, n, c.Duration, probes)
			if err != nil {
				return err
			}
			results = append(results, res)
			c.failed = c.failed || res.Errors > 0
			if !g.JSON {
				fmt.Fprintln(g.stdout, res.Row())
				for _, e := range res.FirstErrors {
					fmt.Fprintln(g.stdout, "    error:", e)
				}
			}
		}
	}
	if g.JSON {
		if err := printJSON(g, results); err != nil {
			return err
		}
	}
	if c.failed {
		return errors.New("some operations failed (see the errors column)")
	}
	return nil
}
