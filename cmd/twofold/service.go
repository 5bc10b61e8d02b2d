package main

import (
	"context"
	"errors"
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
	lines := make([]string, len(list))
	for i, f := range list {
		lines[i] = onFlag(f.Field, f.Message)
	}
	return errors.New(strings.Join(lines, "\n"))
}

// onFlag prefixes a message with the flag of field.
func onFlag(field, msg string) string {
	flag, known := flagOf[field]
	switch {
	case field == "" || (known && flag == ""):
		return msg
	case !known:
		return field + ": " + msg // a field without a flag still names itself
	}
	return flag + ": " + msg
}

// report prints v as JSON with --json, otherwise text.
func report(g *Globals, v any, text string) error {
	if g.JSON {
		return printJSON(g, v)
	}
	_, err := g.stdout.Write([]byte(text + "\n"))
	return err
}
