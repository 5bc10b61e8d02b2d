package main

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/twofold-id/twofold/admin"
	"github.com/twofold-id/twofold/internal/server"
)

// The administrative commands are thin adapters over the admin service, as
// the admin API's handlers are: they parse flags, call the service (which
// validates, writes and records the audit event with the actor "cli") and
// print. No command writes through the store.

// withAdmin opens the app and runs fn with the admin service, then words
// the service's errors in terms of this command line.
func withAdmin(ctx context.Context, g *Globals, fn func(a *server.App, svc *admin.Admin) error) error {
	a, err := openApp(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	return cliError(fn(a, a.Admin(nil, nil)))
}

// flagOf maps the admin service's field names (the admin API's JSON names)
// onto this command line's flags. A field given as a positional argument
// (the id of a client, user or session) maps to "": its message is printed
// alone. A test checks that every field of the service's inputs is here.
var flagOf = map[string]string{
	// clients
	"client_id": "--id", "name": "--name", "redirect_uris": "--redirect-uri",
	"post_logout_redirect_uris": "--post-logout-redirect-uri", "grant_types": "--grant-type", "public": "--public",
	"token_endpoint_auth_method": "--auth-method", "application_type": "--application-type",
	"access_token_format": "--access-token-format", "id_token_signed_response_alg": "--id-token-signed-response-alg",
	"jwks": "--jwks-file", "backchannel_logout_uri": "--backchannel-logout-uri", "scopes": "--scope",
	// users
	"username": "--username", "email": "--email", "phone": "--phone", "locale": "--locale", "password": "--password-stdin",
	"disabled": "--disabled", "api_account": "--api-account", "admin": "--admin",
	"methods": "--methods", "preferred": "--preferred",
	// policies: the settings, and the level
	"second_factor": "--second-factor", "allowed_methods": "--methods", "sms_fallback": "--sms-fallback",
	"code_digits": "--code-digits", "code_ttl": "--code-ttl", "max_attempts": "--max-attempts",
	"resend_cooldown": "--resend-cooldown", "max_resends": "--max-resends", "session_lifetime": "--session-lifetime",
	"idle_timeout": "--idle-timeout", "remember_device": "--remember-device", "exempt_api_accounts": "--exempt-api-accounts",
	"client": "--client", "user": "--user",
	// sessions and the audit log
	"all": "--all", "type": "--type", "since": "--since", "limit": "--limit", "cursor": "--cursor",
	// positional arguments
	"id": "",
}

// cliError words the service's errors for the command line: each input
// problem on its own line, prefixed by the flag it came from; an unknown
// id's message alone. Messages themselves are the service's, unchanged.
func cliError(err error) error {
	e, ok := admin.AsError(err)
	if !ok {
		return err
	}
	if e.Code == admin.CodeNotFound {
		return errors.New(e.Message)
	}
	list := e.Errors
	if len(list) == 0 {
		list = []admin.FieldError{{Field: e.Field, Message: e.Message}}
	}
	out := &inputError{problems: make([]problem, len(list))}
	for i, f := range list {
		out.problems[i] = problem{Field: flagName(f.Field), Message: f.Message}
	}
	return out
}

// problem is one bad input, named by its flag (or field) when it has one.
type problem struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// inputError is a command's bad input: one or more problems.
type inputError struct{ problems []problem }

func (e *inputError) Error() string {
	lines := make([]string, len(e.problems))
	for i, p := range e.problems {
		lines[i] = p.Message
		if p.Field != "" {
			lines[i] = p.Field + ": " + p.Message
		}
	}
	return strings.Join(lines, "\n")
}

// errorObject is an error as --json prints it.
type errorObject struct {
	Error  string    `json:"error"`
	Field  string    `json:"field,omitempty"`
	Errors []problem `json:"errors,omitempty"`
}

// configKey matches a configuration key as config's messages begin with it.
var configKey = regexp.MustCompile(`^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*): (.+)$`)

// errorJSON is err as --json prints it: the service's bad input names its
// flags; a configuration problem ("smtp.from: …", one per line) its key.
func errorJSON(err error) errorObject {
	var ie *inputError
	if errors.As(err, &ie) {
		o := errorObject{Error: err.Error(), Field: ie.problems[0].Field}
		if len(ie.problems) > 1 {
			o.Errors = ie.problems
		}
		return o
	}
	msg := err.Error()
	var list []problem
	for _, line := range strings.Split(msg, "\n") {
		m := configKey.FindStringSubmatch(line)
		if m == nil {
			list = nil
			break
		}
		list = append(list, problem{Field: m[1], Message: m[2]})
	}
	o := errorObject{Error: msg}
	if len(list) > 0 {
		o.Field = list[0].Field
		if len(list) > 1 {
			o.Errors = list
		}
	}
	return o
}

// flagName is the flag of a service field ("" for a positional argument);
// a field without a flag names itself.
func flagName(field string) string {
	if flag, known := flagOf[field]; known {
		return flag
	}
	return field
}

// report prints v as JSON with --json, otherwise text.
func report(g *Globals, v any, text string) error {
	if g.JSON {
		return printJSON(g, v)
	}
	_, err := g.stdout.Write([]byte(text + "\n"))
	return err
}
