package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/twofold-id/twofold/config"
	"github.com/twofold-id/twofold/login/policy"
	"github.com/twofold-id/twofold/storage"
)

// PolicyDoc is one level's policy as the API and the CLI read and write
// it. An absent (nil) field inherits; durations are strings like "5m" or
// "90d".
type PolicyDoc struct {
	SecondFactor      *string          `json:"second_factor,omitempty"`
	AllowedMethods    []storage.Method `json:"allowed_methods,omitempty"`
	SMSFallback       *bool            `json:"sms_fallback,omitempty"`
	CodeDigits        *int             `json:"code_digits,omitempty"`
	CodeTTL           *string          `json:"code_ttl,omitempty"`
	MaxAttempts       *int             `json:"max_attempts,omitempty"`
	ResendCooldown    *string          `json:"resend_cooldown,omitempty"`
	MaxResends        *int             `json:"max_resends,omitempty"`
	SessionLifetime   *string          `json:"session_lifetime,omitempty"`
	IdleTimeout       *string          `json:"idle_timeout,omitempty"`
	RememberDevice    *string          `json:"remember_device,omitempty"`
	ExemptAPIAccounts *bool            `json:"exempt_api_accounts,omitempty"`
}

// Level names where a policy attaches: the global default, a client or a
// user (Target is the client or user id; empty for global).
type Level struct {
	Scope  string `json:"scope"`
	Target string `json:"target,omitempty"`
}

// String names the level for people: "global", "client payroll".
func (l Level) String() string {
	if l.Target == "" {
		return l.Scope
	}
	return l.Scope + " " + l.Target
}

// durationLimits bounds each duration field: [min, max]; 0 is allowed
// where it means "off".
var durationLimits = map[string]struct {
	min, max time.Duration
	zeroOff  bool
}{
	"code_ttl":         {30 * time.Second, time.Hour, false},
	"resend_cooldown":  {0, time.Hour, false},
	"session_lifetime": {time.Minute, 400 * 24 * time.Hour, false},
	"idle_timeout":     {time.Minute, 400 * 24 * time.Hour, true},
	"remember_device":  {time.Hour, 400 * 24 * time.Hour, true},
}

// parseDuration reads one duration field into seconds.
func parseDuration(field string, s *string) (*int64, error) {
	if s == nil {
		return nil, nil
	}
	lim := durationLimits[field]
	in := *s
	if lim.zeroOff && strings.EqualFold(strings.TrimSpace(in), "off") {
		in = "0s"
	}
	d, err := config.ParseDuration(in)
	if err != nil {
		if lim.zeroOff {
			return nil, invalid(field, "%v, or off", err)
		}
		return nil, invalid(field, "%v", err)
	}
	td := time.Duration(d)
	if !(lim.zeroOff && td == 0) && (td < lim.min || td > lim.max) {
		msg := fmt.Sprintf("must be from %s to %s", config.Duration(lim.min), config.Duration(lim.max))
		if lim.zeroOff {
			msg += ", or off"
		}
		return nil, invalid(field, "%s (got %q)", msg, *s)
	}
	if td%time.Second != 0 {
		return nil, invalid(field, "must be whole seconds (got %q)", *s)
	}
	secs := int64(td / time.Second)
	return &secs, nil
}

func checkInt(field string, v *int, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return invalid(field, "must be %d to %d (got %d)", lo, hi, *v)
	}
	return nil
}

// record validates d and builds the storage record of one level; the
// first bad field is reported.
func (d PolicyDoc) record(l Level, now time.Time) (*storage.Policy, error) {
	p := &storage.Policy{ID: uuid.NewString(), Scope: l.Scope, TargetID: l.Target, SMSFallback: d.SMSFallback,
		CodeDigits: d.CodeDigits, MaxAttempts: d.MaxAttempts, MaxResends: d.MaxResends,
		ExemptAPIAccounts: d.ExemptAPIAccounts, CreatedAt: now, UpdatedAt: now}
	if d.SecondFactor != nil {
		if !policy.Valid(*d.SecondFactor) {
			return nil, invalid("second_factor", "must be off, optional or required (got %q)", *d.SecondFactor)
		}
		p.SecondFactor = *d.SecondFactor
	}
	if d.AllowedMethods != nil {
		if len(d.AllowedMethods) == 0 {
			return nil, invalid("allowed_methods", "name at least one of %s, or leave it out to inherit", storage.MethodNames())
		}
		for _, m := range d.AllowedMethods {
			if _, err := storage.ParseMethod(string(m)); err != nil {
				return nil, invalid("allowed_methods", "%v", err)
			}
			if !p.AllowedMethods.Contains(m) {
				p.AllowedMethods = append(p.AllowedMethods, m)
			}
		}
	}
	for _, err := range []error{checkInt("code_digits", d.CodeDigits, 6, 10), checkInt("max_attempts", d.MaxAttempts, 1, 20),
		checkInt("max_resends", d.MaxResends, 0, 20)} {
		if err != nil {
			return nil, err
		}
	}
	var err error
	for _, f := range []struct {
		name string
		in   *string
		out  **int64
	}{
		{"code_ttl", d.CodeTTL, &p.CodeTTLSeconds}, {"resend_cooldown", d.ResendCooldown, &p.ResendCooldownSeconds},
		{"session_lifetime", d.SessionLifetime, &p.SessionLifetimeSeconds}, {"idle_timeout", d.IdleTimeout, &p.IdleTimeoutSeconds},
		{"remember_device", d.RememberDevice, &p.RememberDeviceSeconds},
	} {
		if *f.out, err = parseDuration(f.name, f.in); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// given names the settings d holds a value for, in display order.
func (d PolicyDoc) given() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"second_factor", d.SecondFactor != nil}, {"allowed_methods", d.AllowedMethods != nil}, {"sms_fallback", d.SMSFallback != nil},
		{"code_digits", d.CodeDigits != nil}, {"code_ttl", d.CodeTTL != nil}, {"max_attempts", d.MaxAttempts != nil},
		{"resend_cooldown", d.ResendCooldown != nil}, {"max_resends", d.MaxResends != nil},
		{"session_lifetime", d.SessionLifetime != nil}, {"idle_timeout", d.IdleTimeout != nil},
		{"remember_device", d.RememberDevice != nil}, {"exempt_api_accounts", d.ExemptAPIAccounts != nil}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// docOf is the inverse of record.
func docOf(p *storage.Policy) PolicyDoc {
	dur := func(field string, secs *int64) *string {
		if secs == nil {
			return nil
		}
		s := fmtLimited(field, time.Duration(*secs)*time.Second)
		return &s
	}
	d := PolicyDoc{SMSFallback: p.SMSFallback, CodeDigits: p.CodeDigits, MaxAttempts: p.MaxAttempts,
		MaxResends: p.MaxResends, ExemptAPIAccounts: p.ExemptAPIAccounts,
		CodeTTL: dur("code_ttl", p.CodeTTLSeconds), ResendCooldown: dur("resend_cooldown", p.ResendCooldownSeconds),
		SessionLifetime: dur("session_lifetime", p.SessionLifetimeSeconds), IdleTimeout: dur("idle_timeout", p.IdleTimeoutSeconds),
		RememberDevice: dur("remember_device", p.RememberDeviceSeconds)}
	if p.SecondFactor != "" {
		d.SecondFactor = &p.SecondFactor
	}
	if len(p.AllowedMethods) > 0 {
		d.AllowedMethods = slices.Clone([]storage.Method(p.AllowedMethods))
	}
	return d
}

// fmtDuration writes a duration as people do: "5m", "1h30m", "90d", "0s".
func fmtDuration(d time.Duration) string { return config.Duration(d).String() }

// fmtLimited writes a duration field's value, "off" where 0 means off.
func fmtLimited(field string, d time.Duration) string {
	if d == 0 && durationLimits[field].zeroOff {
		return "off"
	}
	return fmtDuration(d)
}

// PolicyView is one stored policy with its level.
type PolicyView struct {
	Level
	PolicyDoc
	UpdatedAt time.Time `json:"updated_at"`
}

// ResolveLevel checks that a level's client or user exists and returns the
// level with the target's id (users may be named by username).
func (a *Admin) ResolveLevel(ctx context.Context, scope, ref string) (Level, error) {
	switch scope {
	case storage.ScopeGlobal:
		return Level{Scope: scope}, nil
	case storage.ScopeClient:
		c, err := a.FindClient(ctx, "client", ref)
		if err != nil {
			return Level{}, err
		}
		return Level{Scope: scope, Target: c.ID}, nil
	case storage.ScopeUser:
		u, err := a.FindUser(ctx, "user", ref)
		if err != nil {
			return Level{}, err
		}
		return Level{Scope: scope, Target: u.ID}, nil
	}
	return Level{}, invalid("scope", "must be global, client or user (got %q)", scope)
}

// Policies lists every stored policy.
func (a *Admin) Policies(ctx context.Context) ([]PolicyView, error) {
	list, err := a.store.Policies(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PolicyView, len(list))
	for i := range list {
		p := &list[i]
		out[i] = PolicyView{Level: Level{Scope: p.Scope, Target: p.TargetID}, PolicyDoc: docOf(p), UpdatedAt: p.UpdatedAt}
	}
	return out, nil
}

// Policy returns the stored policy of one level; not_found when none.
func (a *Admin) Policy(ctx context.Context, l Level) (PolicyView, error) {
	p, err := a.store.PolicyFor(ctx, l.Scope, l.Target)
	if errors.Is(err, storage.ErrNotFound) {
		return PolicyView{}, notFound("", "no %s policy", l)
	} else if err != nil {
		return PolicyView{}, err
	}
	return PolicyView{Level: l, PolicyDoc: docOf(p), UpdatedAt: p.UpdatedAt}, nil
}

// PutPolicy replaces the policy of one level: every setting d leaves out
// inherits again. It holds on the next request everywhere: nothing caches
// policies.
func (a *Admin) PutPolicy(ctx context.Context, actor Actor, l Level, d PolicyDoc) (PolicyView, error) {
	now := a.cfg.Now()
	p, err := d.record(l, now)
	if err != nil {
		return PolicyView{}, err
	}
	if err := a.store.PutPolicy(ctx, p); err != nil {
		return PolicyView{}, err
	}
	a.audit(ctx, actor, "policy_set", levelUser(l), levelClient(l), "level="+l.Scope)
	return PolicyView{Level: l, PolicyDoc: docOf(p), UpdatedAt: now}, nil
}

// PolicyPatch changes some settings of one level: Set holds the new
// values (its other fields are ignored), Inherit names the settings that
// inherit again. A setting in neither is kept as stored.
type PolicyPatch struct {
	Set     PolicyDoc
	Inherit []string
}

// fields names every setting the patch touches, in display order.
func (p PolicyPatch) fields() []string {
	given := p.Set.given()
	return slices.DeleteFunc(policy.Fields(), func(f string) bool {
		return !slices.Contains(given, f) && !slices.Contains(p.Inherit, f)
	})
}

// PatchPolicy changes only the settings the patch names and keeps the
// others, whoever set them and however (PUT, PATCH or the command line's
// policy set); a level without a policy gets one. Validated as PutPolicy
// is; applied in one statement, so concurrent patches of different
// settings all hold.
func (a *Admin) PatchPolicy(ctx context.Context, actor Actor, l Level, patch PolicyPatch) (PolicyView, error) {
	for _, f := range patch.Inherit {
		if !slices.Contains(policy.Fields(), f) {
			return PolicyView{}, invalid(f, "not a policy setting (known: %s)", strings.Join(policy.Fields(), ", "))
		}
		if slices.Contains(patch.Set.given(), f) {
			return PolicyView{}, invalid(f, "given a value and set to inherit at once")
		}
	}
	fields := patch.fields()
	if len(fields) == 0 {
		return PolicyView{}, invalid("", "nothing to change: give at least one setting")
	}
	now := a.cfg.Now()
	p, err := patch.Set.record(l, now)
	if err != nil {
		return PolicyView{}, err
	}
	if err := a.store.PatchPolicy(ctx, p, fields); err != nil {
		return PolicyView{}, err
	}
	a.audit(ctx, actor, "policy_set", levelUser(l), levelClient(l), "level="+l.Scope+" fields="+strings.Join(fields, ","))
	return a.Policy(ctx, l)
}

// DeletePolicy removes the policy of one level; not_found when none.
func (a *Admin) DeletePolicy(ctx context.Context, actor Actor, l Level) error {
	if err := a.store.DeletePolicy(ctx, l.Scope, l.Target); errors.Is(err, storage.ErrNotFound) {
		return notFound("", "no %s policy", l)
	} else if err != nil {
		return err
	}
	a.audit(ctx, actor, "policy_deleted", levelUser(l), levelClient(l), "level="+l.Scope)
	return nil
}

func levelUser(l Level) string {
	if l.Scope == storage.ScopeUser {
		return l.Target
	}
	return ""
}

func levelClient(l Level) string {
	if l.Scope == storage.ScopeClient {
		return l.Target
	}
	return ""
}

// Explained is one field of an effective policy: its value and the level
// that decided it (config, global, client or user).
type Explained struct {
	Value  any    `json:"value"`
	Source string `json:"source"`
}

// Explanation is an effective policy, field by field, in display order.
type Explanation struct {
	User   string               `json:"user,omitempty"`
	Client string               `json:"client,omitempty"`
	Fields map[string]Explained `json:"fields"`
	Order  []string             `json:"-"`
}

// Effective resolves the policy of a user (by username or id) at a client,
// either of which may be empty, and says where each value came from.
func (a *Admin) Effective(ctx context.Context, userRef, clientID string) (Explanation, error) {
	x := Explanation{Fields: map[string]Explained{}, Order: policy.Fields()}
	if userRef != "" {
		u, err := a.FindUser(ctx, "user", userRef)
		if err != nil {
			return x, err
		}
		x.User = u.ID
	}
	if clientID != "" {
		c, err := a.FindClient(ctx, "client", clientID)
		if err != nil {
			return x, err
		}
		x.Client = c.ID
	}
	e, err := a.cfg.Policy(ctx, x.Client, x.User)
	if err != nil {
		return x, err
	}
	dur := fmtDuration
	off := fmtLimited
	values := map[string]any{
		"second_factor": e.SecondFactor, "allowed_methods": e.AllowedMethods, "sms_fallback": e.SMSFallback,
		"code_digits": e.CodeDigits, "code_ttl": dur(e.CodeTTL), "max_attempts": e.MaxAttempts,
		"resend_cooldown": dur(e.ResendCooldown), "max_resends": e.MaxResends,
		"session_lifetime": dur(e.SessionLifetime), "idle_timeout": off("idle_timeout", e.IdleTimeout),
		"remember_device": off("remember_device", e.RememberDevice), "exempt_api_accounts": e.ExemptAPIAccounts,
	}
	for _, f := range x.Order {
		x.Fields[f] = Explained{Value: values[f], Source: e.Source[f]}
	}
	return x, nil
}
