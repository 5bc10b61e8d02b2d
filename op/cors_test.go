package op

import "testing"

func TestOriginOf(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://rp.example", "https://rp.example", true},
		{"https://rp.example/callback?x=1#f", "https://rp.example", true},
		{"HTTPS://RP.Example:443/cb", "https://rp.example", true},
		{"https://rp.example:8443/cb", "https://rp.example:8443", true},
		{"http://127.0.0.1:5173/cb", "http://127.0.0.1:5173", true},
		{"http://localhost:80/", "http://localhost", true},
		{"http://[::1]:8080/cb", "http://[::1]:8080", true},
		{"https://[::1]/cb", "https://[::1]", true},
		{"null", "", false},
		{"", "", false},
		{"com.example.app:/callback", "", false},
		{"https://user:pw@rp.example/", "", false},
		{"ftp://rp.example/", "", false},
		{"https:///cb", "", false},
	} {
		got, ok := originOf(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("originOf(%q) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
