package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/storage"
)

// PolicyCmd groups the policy commands.
type PolicyCmd struct {
	Set    PolicySetCmd    `cmd:"" help:"Change policy values at one level (global, a client or a user); the values not given are kept (as the admin API's PATCH)."`
	Show   PolicyShowCmd   `cmd:"" help:"Explain the effective policy of a user at a client: each value and where it came from."`
	List   PolicyListCmd   `cmd:"" help:"List the stored policies."`
	Delete PolicyDeleteCmd `cmd:"" help:"Remove the policy of one level; its values are inherited again."`
}

// levelFlags choose one policy level.
type levelFlags struct {
	Global bool   `help:"The global default policy." xor:"level"`
	Client string `placeholder:"ID" help:"The policy of this client." xor:"level"`
	User   string `placeholder:"USER" help:"The policy of this user (username or id)." xor:"level"`
}

func (l levelFlags) resolve(ctx context.Context, svc *admin.Admin) (admin.Level, error) {
	switch {
	case l.Global:
		return svc.ResolveLevel(ctx, storage.ScopeGlobal, "")
	case l.Client != "":
		return svc.ResolveLevel(ctx, storage.ScopeClient, l.Client)
	case l.User != "":
		return svc.ResolveLevel(ctx, storage.ScopeUser, l.User)
	}
	return admin.Level{}, errors.New("name the level: --global, --client ID or --user USER")
}

// PolicySetCmd sets values at one level. Every value flag takes "inherit"
// to remove the value from this level.
type PolicySetCmd struct {
	levelFlags
	SecondFactor      string `name:"second-factor" placeholder:"off|optional|required" help:"Whether a second factor is asked."`
	Methods           string `placeholder:"LIST" help:"Allowed methods, comma-separated: sms, voice, email, totp."`
	SMSFallback       string `name:"sms-fallback" placeholder:"on|off" help:"Send the code by email when a text cannot be sent."`
	CodeDigits        string `name:"code-digits" placeholder:"N" help:"Code length, 6 to 10."`
	CodeTTL           string `name:"code-ttl" placeholder:"DURATION" help:"How long a code is valid (e.g. 5m)."`
	MaxAttempts       string `name:"max-attempts" placeholder:"N" help:"Wrong guesses allowed per code."`
	ResendCooldown    string `name:"resend-cooldown" placeholder:"DURATION" help:"Wait before another code can be sent."`
	MaxResends        string `name:"max-resends" placeholder:"N" help:"Codes that can be sent again per sign-in."`
	SessionLifetime   string `name:"session-lifetime" placeholder:"DURATION" help:"Lifetime of an SSO session (e.g. 8h, 90d)."`
	IdleTimeout       string `name:"idle-timeout" placeholder:"DURATION" help:"End a session unused this long (0: off)."`
	RememberDevice    string `name:"remember-device" placeholder:"DURATION" help:"How long a completed second factor is remembered on a device (0: off)."`
	ExemptAPIAccounts string `name:"exempt-api-accounts" placeholder:"on|off" help:"Whether API accounts skip the second factor."`
}

// Run changes the given values of the level's policy and keeps the others,
// as the admin API's PATCH does.
func (c *PolicySetCmd) Run(ctx context.Context, g *Globals) error {
	patch, err := c.patch()
	if err != nil {
		return err
	}
	return withAdmin(ctx, g, func(a *server.App, svc *admin.Admin) error {
		l, err := c.resolve(ctx, svc)
		if err != nil {
			return err
		}
		view, err := svc.PatchPolicy(ctx, admin.CLI, l, patch)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, view)
		}
		fmt.Fprintf(g.stdout, "Set the %s policy: %s\n", describeLevel(ctx, svc, l), summarize(view.PolicyDoc))
		return nil
	})
}

// patch turns the flags given into a patch: a value sets a setting,
// "inherit" lets it inherit again, a flag left out keeps it.
func (c *PolicySetCmd) patch() (admin.PolicyPatch, error) {
	var p admin.PolicyPatch
	var errs []error
	given := false
	value := func(field, flag, v string, set func(string) error) {
		switch strings.ToLower(v) {
		case "":
			return
		case "inherit":
			p.Inherit = append(p.Inherit, field)
		default:
			if err := set(v); err != nil {
				errs = append(errs, fmt.Errorf("--%s: %w", flag, err))
			}
		}
		given = true
	}
	str := func(dst **string) func(string) error {
		return func(v string) error { *dst = &v; return nil }
	}
	num := func(dst **int) func(string) error {
		return func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("must be a whole number (got %q)", v)
			}
			*dst = &n
			return nil
		}
	}
	onOff := func(dst **bool) func(string) error {
		return func(v string) error {
			switch strings.ToLower(v) {
			case "on", "true", "yes":
				*dst = new(true)
			case "off", "false", "no":
				*dst = new(false)
			default:
				return fmt.Errorf("must be on, off or inherit (got %q)", v)
			}
			return nil
		}
	}
	methods := func(v string) error {
		p.Set.AllowedMethods = []storage.Method{} // the service checks the names
		for _, m := range strings.Split(v, ",") {
			if m = strings.TrimSpace(m); m != "" {
				p.Set.AllowedMethods = append(p.Set.AllowedMethods, storage.Method(m))
			}
		}
		return nil
	}
	d := &p.Set
	value("second_factor", "second-factor", c.SecondFactor, str(&d.SecondFactor))
	value("allowed_methods", "methods", c.Methods, methods)
	value("sms_fallback", "sms-fallback", c.SMSFallback, onOff(&d.SMSFallback))
	value("code_digits", "code-digits", c.CodeDigits, num(&d.CodeDigits))
	value("code_ttl", "code-ttl", c.CodeTTL, str(&d.CodeTTL))
	value("max_attempts", "max-attempts", c.MaxAttempts, num(&d.MaxAttempts))
	value("resend_cooldown", "resend-cooldown", c.ResendCooldown, str(&d.ResendCooldown))
	value("max_resends", "max-resends", c.MaxResends, num(&d.MaxResends))
	value("session_lifetime", "session-lifetime", c.SessionLifetime, str(&d.SessionLifetime))
	value("idle_timeout", "idle-timeout", c.IdleTimeout, str(&d.IdleTimeout))
	value("remember_device", "remember-device", c.RememberDevice, str(&d.RememberDevice))
	value("exempt_api_accounts", "exempt-api-accounts", c.ExemptAPIAccounts, onOff(&d.ExemptAPIAccounts))
	if !given {
		return p, errors.New("nothing to set: give at least one value, e.g. --second-factor required")
	}
	return p, errors.Join(errs...)
}

// summarize lists the values a policy sets, "field=value" in field order.
func summarize(d admin.PolicyDoc) string {
	var parts []string
	add := func(name string, set bool, v any) {
		if set {
			parts = append(parts, fmt.Sprintf("%s=%v", name, v))
		}
	}
	deref := func(p any) any {
		switch v := p.(type) {
		case *string:
			if v != nil {
				return *v
			}
		case *int:
			if v != nil {
				return *v
			}
		case *bool:
			if v != nil {
				return onOff(*v)
			}
		}
		return nil
	}
	add("second_factor", d.SecondFactor != nil, deref(d.SecondFactor))
	add("allowed_methods", d.AllowedMethods != nil, storage.MethodList(d.AllowedMethods).Join(","))
	add("sms_fallback", d.SMSFallback != nil, deref(d.SMSFallback))
	add("code_digits", d.CodeDigits != nil, deref(d.CodeDigits))
	add("code_ttl", d.CodeTTL != nil, deref(d.CodeTTL))
	add("max_attempts", d.MaxAttempts != nil, deref(d.MaxAttempts))
	add("resend_cooldown", d.ResendCooldown != nil, deref(d.ResendCooldown))
	add("max_resends", d.MaxResends != nil, deref(d.MaxResends))
	add("session_lifetime", d.SessionLifetime != nil, deref(d.SessionLifetime))
	add("idle_timeout", d.IdleTimeout != nil, deref(d.IdleTimeout))
	add("remember_device", d.RememberDevice != nil, deref(d.RememberDevice))
	add("exempt_api_accounts", d.ExemptAPIAccounts != nil, deref(d.ExemptAPIAccounts))
	if len(parts) == 0 {
		return "(inherits everything)"
	}
	return strings.Join(parts, " ")
}

// describeLevel names a level with the username rather than the user id.
func describeLevel(ctx context.Context, svc *admin.Admin, l admin.Level) string {
	if l.Scope == storage.ScopeUser {
		if u, err := svc.FindUser(ctx, "user", l.Target); err == nil {
			return "user " + u.Username
		}
	}
	return l.String()
}

// PolicyShowCmd explains an effective policy.
type PolicyShowCmd struct {
	User   string `placeholder:"USER" help:"The user (username or id)."`
	Client string `placeholder:"ID" help:"The client."`
}

// Run prints each value of the effective policy and the level it came from.
func (c *PolicyShowCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(a *server.App, svc *admin.Admin) error {
		x, err := svc.Effective(ctx, c.User, c.Client)
		if err != nil {
			return err
		}
		if g.JSON {
			return printJSON(g, x)
		}
		who := "any user"
		if x.User != "" {
			who = describeLevel(ctx, svc, admin.Level{Scope: storage.ScopeUser, Target: x.User})
		}
		where := "any client"
		if x.Client != "" {
			where = "client " + x.Client
		}
		fmt.Fprintf(g.stdout, "Effective policy for %s at %s (the strictest of the levels; any required wins):\n\n", who, where)
		w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SETTING\tVALUE\tFROM")
		for _, f := range x.Order {
			e := x.Fields[f]
			v := fmt.Sprint(e.Value)
			switch val := e.Value.(type) {
			case []storage.Method:
				v = storage.MethodList(val).Join(",")
			case bool:
				v = onOff(val)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", f, v, sourceName(ctx, svc, e.Source, x))
		}
		return w.Flush()
	})
}

// onOff prints a switch the way the flags take it.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// sourceName says where a value came from, for people.
func sourceName(ctx context.Context, svc *admin.Admin, source string, x admin.Explanation) string {
	switch source {
	case storage.ScopeGlobal:
		return "global policy"
	case storage.ScopeClient:
		return "client " + x.Client + " policy"
	case storage.ScopeUser:
		return describeLevel(ctx, svc, admin.Level{Scope: storage.ScopeUser, Target: x.User}) + " policy"
	}
	return "configuration default"
}

// PolicyListCmd lists policies.
type PolicyListCmd struct{}

// Run lists every stored policy.
func (PolicyListCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(a *server.App, svc *admin.Admin) error {
		list, err := svc.Policies(ctx)
		if err != nil {
			return err
		}
		if g.JSON {
			if list == nil {
				list = []admin.PolicyView{}
			}
			return printJSON(g, list)
		}
		w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "LEVEL\tSETTINGS")
		for _, p := range list {
			fmt.Fprintf(w, "%s\t%s\n", describeLevel(ctx, svc, p.Level), summarize(p.PolicyDoc))
		}
		return w.Flush()
	})
}

// PolicyDeleteCmd removes a level's policy.
type PolicyDeleteCmd struct{ levelFlags }

// Run deletes the policy.
func (c *PolicyDeleteCmd) Run(ctx context.Context, g *Globals) error {
	return withAdmin(ctx, g, func(a *server.App, svc *admin.Admin) error {
		l, err := c.resolve(ctx, svc)
		if err != nil {
			return err
		}
		if err := svc.DeletePolicy(ctx, admin.CLI, l); err != nil {
			return err
		}
		return report(g, map[string]string{"deleted": "policy", "scope": l.Scope, "target": l.Target},
			fmt.Sprintf("Deleted the %s policy; its values are inherited again.", describeLevel(ctx, svc, l)))
	})
}
