package admin_test

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/admin"
)

// FuzzCheckRedirectURI: redirect URI validation never panics, and never
// accepts a fragment, a wildcard, plain http to a host other than loopback,
// or a custom scheme for a web client.
func FuzzCheckRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://app.example/cb", "http://localhost:8080/cb", "http://127.0.0.1/cb", "http://[::1]:9/cb",
		"com.example.app:/oauth", "https://app.example/cb#frag", "https://*.example/cb", "https://app.example/*",
		"http://app.example/cb", "HTTP://evil.example/", "http://localhost.evil.example/", "http://127.0.0.1.nip.io/",
		"http://localhost@evil.example/", "http://evil.example\\@localhost/", "http:evil.example", "http:///cb",
		"http://[::ffff:127.0.0.1]/", "http://0x7f.1/", "http://2130706433/", "http://%6c%6fcalhost/",
		"https://app.example/%23frag", "https:app.example", "//app.example/cb", "javascript:alert(1)", "",
	} {
		f.Add(s, "web")
		f.Add(s, "native")
	}
	f.Fuzz(func(t *testing.T, raw, appType string) {
		if admin.CheckRedirectURI(raw, appType) != nil {
			return
		}
		if strings.Contains(raw, "#") {
			t.Fatalf("accepted %q (%s) with a fragment", raw, appType)
		}
		if strings.Contains(raw, "*") {
			t.Fatalf("accepted %q (%s) with a wildcard", raw, appType)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q (%s), which does not parse: %v", raw, appType, err)
		}
		switch u.Scheme {
		case "http":
			if !loopback(u.Hostname()) {
				t.Fatalf("accepted %q (%s): http to host %q", raw, appType, u.Hostname())
			}
		case "https":
			if u.Host == "" {
				t.Fatalf("accepted %q (%s) without a host", raw, appType)
			}
		default:
			if appType != "native" {
				t.Fatalf("accepted %q for a %q client: custom scheme %q", raw, appType, u.Scheme)
			}
		}
	})
}

// loopback is the oracle: localhost or a literal loopback address, written
// as net.ParseIP reads it (no hex or decimal forms).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
