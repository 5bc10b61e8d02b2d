package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/storage"
)

// store opens the CLI test's database directly.
func (c *cliEnv) store() *storage.Store {
	c.t.Helper()
	st, err := storage.Open("sqlite:"+filepath.Join(c.dir, "twofold.db"), storage.Options{MaxOpenConns: 1})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { st.Close() })
	return st
}

type explained struct {
	Value  any    `json:"value"`
	Source string `json:"source"`
}

func TestPolicyCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("alice-password\n", "user", "create", "--username", "alice", "--password-stdin")
	payroll := okJSON[clientOut](c, "", "client", "create", "--name", "Payroll", "--id", "payroll", "--redirect-uri", "https://payroll.example/cb", "--json")

	c.ok("", "policy", "set", "--global", "--session-lifetime", "30d")
	out := c.ok("", "policy", "set", "--client", payroll.ClientID, "--second-factor", "required", "--methods", "sms,totp")
	if !strings.Contains(out, "client payroll") || !strings.Contains(out, "second_factor=required") {
		t.Errorf("policy set = %q", out)
	}
	c.ok("", "policy", "set", "--user", "alice", "--idle-timeout", "1h", "--exempt-api-accounts", "off")
	// set merges: the idle timeout stays.
	c.ok("", "policy", "set", "--user", "alice", "--code-ttl", "2m")

	show := c.ok("", "policy", "show", "--user", "alice", "--client", "payroll")
	for _, want := range []string{"second_factor        required", "client payroll policy", "30d", "global policy",
		"user alice policy", "configuration default", "sms,totp", "exempt_api_accounts  off"} {
		if !strings.Contains(show, want) {
			t.Errorf("policy show lacks %q:\n%s", want, show)
		}
	}
	x := okJSON[struct {
		Fields map[string]explained `json:"fields"`
	}](c, "", "policy", "show", "--user", "alice", "--client", "payroll", "--json")
	for field, want := range map[string]explained{
		"second_factor": {"required", "client"}, "idle_timeout": {"1h", "user"}, "code_ttl": {"2m", "user"},
		"session_lifetime": {"30d", "global"}, "exempt_api_accounts": {false, "user"}, "max_attempts": {float64(5), "config"},
	} {
		if got := x.Fields[field]; got != want {
			t.Errorf("policy show --json %s = %+v, want %+v", field, got, want)
		}
	}

	list := c.ok("", "policy", "list")
	if !strings.Contains(list, "global") || !strings.Contains(list, "client payroll") ||
		!strings.Contains(list, "code_ttl=2m idle_timeout=1h exempt_api_accounts=off") {
		t.Errorf("policy list:\n%s", list)
	}
	if got := okJSON[[]map[string]any](c, "", "policy", "list", "--json"); len(got) != 3 {
		t.Errorf("policy list --json = %v", got)
	}

	c.fails("", []string{"policy", "set", "--global"}, "nothing to set")
	c.fails("", []string{"policy", "set", "--second-factor", "required"}, "--global")
	c.fails("", []string{"policy", "set", "--global", "--second-factor", "always"}, "--second-factor", "off, optional or required")
	c.fails("", []string{"policy", "set", "--global", "--methods", "sms,pigeon"}, "--methods", `"pigeon"`)
	c.fails("", []string{"policy", "set", "--global", "--session-lifetime", "forever"}, "--session-lifetime")
	c.fails("", []string{"policy", "set", "--global", "--code-digits", "six"}, "--code-digits")
	c.fails("", []string{"policy", "set", "--global", "--sms-fallback", "maybe"}, "--sms-fallback")
	c.fails("", []string{"policy", "set", "--client", "nope", "--second-factor", "required"}, `no client with id "nope"`)
	c.fails("", []string{"policy", "show", "--user", "nobody"}, `no user "nobody"`)

	// inherit removes one value; delete removes the level.
	c.ok("", "policy", "set", "--user", "alice", "--idle-timeout", "inherit")
	if x := okJSON[struct {
		Fields map[string]explained `json:"fields"`
	}](c, "", "policy", "show", "--user", "alice", "--json"); x.Fields["idle_timeout"].Source != "config" {
		t.Errorf("after inherit, idle_timeout = %+v", x.Fields["idle_timeout"])
	}
	c.ok("", "policy", "delete", "--client", "payroll")
	c.fails("", []string{"policy", "delete", "--client", "payroll"}, "no client payroll policy")
	if x := okJSON[struct {
		Fields map[string]explained `json:"fields"`
	}](c, "", "policy", "show", "--user", "alice", "--client", "payroll", "--json"); x.Fields["second_factor"] != (explained{"optional", "config"}) {
		t.Errorf("after delete, second_factor = %+v", x.Fields["second_factor"])
	}

	// Every change is audited as made from the command line.
	events, err := c.store().AuditEvents(context.Background(), storage.AuditFilter{Type: "policy_set"})
	if err != nil || len(events) != 5 || events[0].Actor != "cli" {
		t.Errorf("policy_set audit events = %+v, %v", events, err)
	}
}

func TestUserFlagsAndBootstrap(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("ci-bot-password\n", "user", "create", "--username", "ci-bot", "--phone", "+14155550100", "--password-stdin")
	c.ok("", "user", "set-second-factor", "ci-bot", "--methods", "sms")
	if out := c.ok("", "user", "set-api-account", "ci-bot"); !strings.Contains(out, "ci-bot is an API account") {
		t.Errorf("set-api-account = %q", out)
	}
	c.ok("", "user", "set-admin", "ci-bot")
	type shown struct {
		APIAccount    bool `json:"api_account"`
		Admin         bool `json:"admin"`
		SecondFactors []struct {
			Method      string `json:"method"`
			Destination string `json:"destination"`
			Preferred   bool   `json:"preferred"`
		} `json:"second_factors"`
	}
	u := okJSON[shown](c, "", "user", "show", "ci-bot", "--json")
	if !u.APIAccount || !u.Admin || len(u.SecondFactors) != 1 || u.SecondFactors[0].Method != "sms" || !u.SecondFactors[0].Preferred {
		t.Errorf("user show = %+v", u)
	}
	if text := c.ok("", "user", "show", "ci-bot"); !strings.Contains(text, "sms +14155550100 (preferred)") || !strings.Contains(text, "api account:") {
		t.Errorf("user show (text):\n%s", text)
	}
	c.ok("", "user", "set-api-account", "ci-bot", "--off")
	c.ok("", "user", "set-admin", "ci-bot", "--off")
	if u := okJSON[shown](c, "", "user", "show", "ci-bot", "--json"); u.APIAccount || u.Admin {
		t.Errorf("after --off: %+v", u)
	}
	c.fails("", []string{"user", "set-api-account", "nobody"}, `no user "nobody"`)

	boot := okJSON[clientOut](c, "", "admin", "bootstrap", "--name", "ops", "--json")
	if boot.ClientID == "" || boot.ClientSecret == nil || len(*boot.ClientSecret) < 43 {
		t.Fatalf("admin bootstrap = %+v", boot)
	}
	c.secret(*boot.ClientSecret)
	rec, err := c.store().Client(context.Background(), boot.ClientID)
	if err != nil || rec.Name != "ops" || !rec.Scopes.Contains("twofold:admin") || strings.Join(rec.GrantTypes, ",") != "client_credentials" {
		t.Fatalf("bootstrap client = %+v, %v", rec, err)
	}
	text := c.ok("", "admin", "bootstrap")
	if !strings.Contains(text, "shown once") || !strings.Contains(text, "/admin/api/v1/users") {
		t.Errorf("admin bootstrap (text):\n%s", text)
	}
	c.secret(strings.Fields(strings.SplitN(text, "client_secret:", 2)[1])[0])
}
