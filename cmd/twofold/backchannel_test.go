package main

import (
	"strings"
	"testing"
)

func TestClientBackchannelLogoutURI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	type out struct {
		ClientID             string  `json:"client_id"`
		ClientSecret         *string `json:"client_secret"`
		BackchannelLogoutURI string  `json:"backchannel_logout_uri"`
	}
	created := okJSON[out](c, "", "client", "create", "--name", "Wiki", "--redirect-uri", "https://wiki.example/cb",
		"--backchannel-logout-uri", "https://wiki.example/backchannel", "--json")
	c.secret(*created.ClientSecret)
	if created.BackchannelLogoutURI != "https://wiki.example/backchannel" {
		t.Errorf("client create --json = %+v, want backchannel_logout_uri", created)
	}
	shown := okJSON[out](c, "", "client", "show", created.ClientID, "--json")
	if shown.BackchannelLogoutURI != "https://wiki.example/backchannel" {
		t.Errorf("client show --json = %+v", shown)
	}
	if text := c.ok("", "client", "show", created.ClientID); !strings.Contains(text, "https://wiki.example/backchannel") {
		t.Errorf("client show lacks the back-channel URI:\n%s", text)
	}
	local := okJSON[out](c, "", "client", "create", "--name", "Dev", "--public", "--redirect-uri", "http://localhost:3000/cb",
		"--backchannel-logout-uri", "http://127.0.0.1:3000/logout", "--json")
	if local.BackchannelLogoutURI != "http://127.0.0.1:3000/logout" {
		t.Errorf("loopback http back-channel URI: %+v", local)
	}
	if plain := okJSON[out](c, "", "client", "show", local.ClientID, "--json"); plain.BackchannelLogoutURI == "" {
		t.Errorf("client show lost the URI: %+v", plain)
	}

	for _, bad := range []string{"http://wiki.example/logout", "https://wiki.example/logout#x", "/logout", "com.example.app:/logout", "https://user:pw@wiki.example/"} {
		c.fails("", []string{"client", "create", "--name", "Bad", "--redirect-uri", "https://wiki.example/cb", "--backchannel-logout-uri", bad},
			"--backchannel-logout-uri")
	}
}
