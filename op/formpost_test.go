package op

import (
	"slices"
	"testing"
)

func TestErrorParams(t *testing.T) {
	const cb = "https://rp.example/cb"
	for _, tc := range []struct {
		location, redirectURI string
		want                  []formField
	}{
		{cb + "?error=unauthorized_client&error_description=no&state=s1", cb,
			[]formField{{"error", "unauthorized_client"}, {"error_description", "no"}, {"state", "s1"}}},
		{cb + "?x=1&error=invalid_request", cb + "?x=1", []formField{{"error", "invalid_request"}}},
		{cb + "?code=abc&state=s1", cb, nil},         // a success is zitadel/oidc's to post
		{"/login?authRequestID=x", cb, nil},          // the way to the login
		{"https://evil.example/cb?error=x", cb, nil}, // not the redirect URI
		{"", cb, nil},
	} {
		if got := errorParams(tc.location, tc.redirectURI); !slices.Equal(got, tc.want) {
			t.Errorf("errorParams(%q, %q) = %v, want %v", tc.location, tc.redirectURI, got, tc.want)
		}
	}
}
