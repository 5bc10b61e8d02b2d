package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPolicyWritesMeanOneThing drives both doors at one database: the
// command line's policy set and the admin API of a running server. A
// policy set of the methods, then a PATCH of another setting, keeps the
// methods; a PUT of one setting replaces the whole policy, so the methods
// inherit again (as README and the OpenAPI document say).
func TestPolicyWritesMeanOneThing(t *testing.T) {
	c := newCLI(t, "TWOFOLD_LISTEN=127.0.0.1:0", "TWOFOLD_ISSUER=http://localhost:9999")
	boot := okJSON[clientOut](c, "", "admin", "bootstrap", "--json")
	c.secret(*boot.ClientSecret)
	c.ok("", "policy", "set", "--global", "--methods", "sms,totp")

	serveOnce(t, c, func(base string) {
		api := func(method, path, body string) map[string]any {
			t.Helper()
			return adminCall(t, base, c, boot.ClientID, *boot.ClientSecret, method, path, body)
		}
		got := api("PATCH", "/policies/global", `{"code_ttl": "2m"}`)
		if methods, _ := json.Marshal(got["allowed_methods"]); got["code_ttl"] != "2m" || string(methods) != `["sms","totp"]` {
			t.Fatalf("PATCH code_ttl after policy set --methods = %v, want the methods kept", got)
		}
		// The command line sees the API's change and keeps it in turn.
		c.ok("", "policy", "set", "--global", "--max-attempts", "3")
		got = api("GET", "/policies/global", "")
		if methods, _ := json.Marshal(got["allowed_methods"]); got["code_ttl"] != "2m" || got["max_attempts"] != float64(3) || string(methods) != `["sms","totp"]` {
			t.Fatalf("after policy set --max-attempts = %v, want every setting kept", got)
		}
		// null inherits one setting again, as policy set's inherit does.
		if got = api("PATCH", "/policies/global", `{"max_attempts": null}`); got["max_attempts"] != nil || got["code_ttl"] != "2m" {
			t.Fatalf("PATCH max_attempts null = %v", got)
		}
		got = api("PUT", "/policies/global", `{"session_lifetime": "30d"}`)
		if got["session_lifetime"] != "30d" || got["allowed_methods"] != nil || got["code_ttl"] != nil {
			t.Fatalf("PUT session_lifetime = %v, want the rest inherited again", got)
		}
	})
	x := okJSON[struct {
		Fields map[string]explained `json:"fields"`
	}](c, "", "policy", "show", "--json")
	if x.Fields["allowed_methods"].Source != "config" || x.Fields["session_lifetime"] != (explained{"30d", "global"}) {
		t.Errorf("policy show after the PUT = %+v", x.Fields)
	}
}

// adminCall gets a client_credentials token for the admin client and
// makes one admin API call, which must succeed; it returns the answer.
func adminCall(t *testing.T, base string, c *cliEnv, id, secret, method, path, body string) map[string]any {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"twofold:admin"}}
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	do(t, client, req, &tok)
	c.secret(tok.AccessToken)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ = http.NewRequest(method, base+"/admin/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	var out map[string]any
	do(t, client, req, &out)
	return out
}

func do(t *testing.T, client *http.Client, req *http.Request, v any) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s %s: %v\n%s", req.Method, req.URL.Path, err, data)
	}
}
