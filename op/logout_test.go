package op

import (
	"testing"

	"github.com/twofold-id/twofold/storage"
)

func TestPostLogoutURI(t *testing.T) {
	web := &storage.Client{ApplicationType: "web", PostLogoutRedirectURIs: storage.StringList{
		"https://app.example/", "https://bare.example", "https://q.example?x=1", "https://app.example/bye"}}
	native := &storage.Client{ApplicationType: "native", PostLogoutRedirectURIs: storage.StringList{"http://127.0.0.1/bye"}}
	for _, tc := range []struct {
		c         *storage.Client
		sent, reg string // reg "" means refused
	}{
		{web, "https://app.example/", "https://app.example/"},
		{web, "https://app.example", "https://app.example/"},
		{web, "https://bare.example/", "https://bare.example"},
		{web, "https://q.example/?x=1", "https://q.example?x=1"},
		{web, "https://app.example/bye", "https://app.example/bye"},
		{web, "https://app.example/bye/", ""},
		{web, "https://app.example//", ""},
		{web, "https://app.example?", ""},
		{web, "https://APP.example/", ""},
		{web, "https://app.example:443/", ""},
		{web, "https://app.example.evil/", ""},
		{web, "https://evil@app.example", ""},
		{web, "//app.example", ""},
		{web, "app.example", ""},
		{web, "", ""},
		{native, "http://127.0.0.1:8123/bye", "http://127.0.0.1:8123/bye"},
		{web, "http://127.0.0.1:8123/bye", ""},
	} {
		reg, ok := postLogoutURI(tc.c, tc.sent)
		if ok != (tc.reg != "") || reg != tc.reg {
			t.Errorf("postLogoutURI(%q) = %q, %v; want %q", tc.sent, reg, ok, tc.reg)
		}
	}
}

func TestWithState(t *testing.T) {
	for _, tc := range []struct{ uri, state, want string }{
		{"https://app.example/bye", "", "https://app.example/bye"},
		{"https://app.example/bye", "a b&c", "https://app.example/bye?state=a+b%26c"},
		{"https://app.example/bye?x=1", "s", "https://app.example/bye?state=s&x=1"},
		{"https://app.example/bye?state=old", "new", "https://app.example/bye?state=new"},
	} {
		if got := withState(tc.uri, tc.state); got != tc.want {
			t.Errorf("withState(%q, %q) = %q, want %q", tc.uri, tc.state, got, tc.want)
		}
	}
}
