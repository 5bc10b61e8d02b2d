// Command twofold is the twofold identity provider: `serve` runs it, and the
// admin commands (client, user, policy, session, keys, audit, migrate) act
// on the same database, reading the same configuration; every
// administrative one goes through the admin service, as the admin API does.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/alecthomas/kong"
)

// Globals are the flags every command takes.
type Globals struct {
	Config string `short:"c" placeholder:"FILE" help:"YAML configuration file (env TWOFOLD_CONFIG)."`
	Dev    bool   `help:"Development mode, as TWOFOLD_DEV=true: data in data_dir (./data: twofold.db and a generated secret.key), demo user and client, codes in the log."`
	JSON   bool   `help:"Print machine-readable JSON; errors too, as {\"error\": …, \"field\": …} on stderr."`
	// Version is handled before parsing (see run), so that it needs no command.
	Version bool `help:"Print the version (as twofold version) and exit."`

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    []string
}

// CLI is the command tree.
type CLI struct {
	Globals

	Serve   ServeCmd   `cmd:"" help:"Run the provider."`
	Version VersionCmd `cmd:"" help:"Print the version, commit and Go version of this build."`
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
	if wantsVersion(args) {
		cli.JSON = slices.Contains(args, "--json")
		if err := printVersion(&cli.Globals); err != nil {
			return fail(&cli.Globals, args, err)
		}
		return 0
	}
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
		return fail(&cli.Globals, args, err)
	}
	kctx, err := parser.Parse(args)
	if exited {
		return 0 // --help
	}
	if err != nil {
		return fail(&cli.Globals, args, err)
	}
	if err := kctx.Run(); err != nil {
		return fail(&cli.Globals, args, err)
	}
	return 0
}

// wantsVersion reports whether the arguments ask for --version (before any
// "--", which ends the flags).
func wantsVersion(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--version" {
			return true
		}
	}
	return false
}

// fail reports err and returns the exit code 1: as "twofold: message" on
// stderr, or with --json (even when the command line itself did not parse)
// as one JSON object on stderr: {"error": message, "field": the flag or
// configuration key when there is one, "errors": every problem when there
// are several}.
func fail(g *Globals, args []string, err error) int {
	if g.JSON || slices.Contains(args, "--json") {
		enc := json.NewEncoder(g.stderr)
		enc.SetIndent("", "  ")
		enc.Encode(errorJSON(err))
		return 1
	}
	fmt.Fprintln(g.stderr, "twofold:", err)
	return 1
}
