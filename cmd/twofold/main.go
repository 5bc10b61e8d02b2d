// Command twofold is the twofold identity provider: `serve` runs it, and the
// admin commands (client, user, policy, session, keys, audit, migrate) act
// on the same database, reading the same configuration; every
// administrative one goes through the admin service, as the admin API does.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// Globals are the flags every command takes.
type Globals struct {
	Config string `short:"c" placeholder:"FILE" help:"YAML configuration file (env TWOFOLD_CONFIG)."`
	Dev    bool   `help:"Development mode, as TWOFOLD_DEV=true: generated secret key, demo user and client, codes in the log."`
	JSON   bool   `help:"Print machine-readable JSON."`

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    []string
}

// CLI is the command tree.
type CLI struct {
	Globals

	Serve   ServeCmd   `cmd:"" help:"Run the provider."`
	Migrate MigrateCmd `cmd:"" help:"Apply pending database migrations."`
	Client  ClientCmd  `cmd:"" help:"Register and manage client applications."`
	User    UserCmd    `cmd:"" help:"Create and manage users."`
	Keys    KeysCmd    `cmd:"" help:"Manage token signing keys."`
	Policy  PolicyCmd  `cmd:"" help:"Set, explain and remove sign-in policies."`
	Session SessionCmd `cmd:"" help:"List and end SSO sessions."`
	Audit   AuditCmd   `cmd:"" help:"Read the audit log."`
	Admin   AdminCmd   `cmd:"" help:"Admin API access."`
	Bench   BenchCmd   `cmd:"" help:"Load driver: seed, start replicas (or drive --target servers) and measure throughput and latency."`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it directly. It returns the
// exit code: 0 for success, 1 for any error, with the message on stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	var cli CLI
	cli.stdin, cli.stdout, cli.stderr, cli.env = stdin, stdout, stderr, env
	exited := false
	parser, err := kong.New(&cli,
		kong.Name("twofold"),
		kong.Description("An OpenID Connect provider with a built-in second factor."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(int) { exited = true }),
		kong.UsageOnError(),
		kong.Bind(&cli.Globals),
		kong.BindTo(ctx, (*context.Context)(nil)),
	)
	if err != nil {
		fmt.Fprintln(stderr, "twofold:", err)
		return 1
	}
	kctx, err := parser.Parse(args)
	if exited {
		return 0 // --help
	}
	if err != nil {
		fmt.Fprintln(stderr, "twofold:", err)
		return 1
	}
	if err := kctx.Run(); err != nil {
		fmt.Fprintln(stderr, "twofold:", err)
		return 1
	}
	return 0
}
