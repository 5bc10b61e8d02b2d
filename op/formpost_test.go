package op

import (
	"net/http/httptest"
	"slices"
	"testing"

	zop "github.com/zitadel/oidc/v3/pkg/op"
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

// encodeValues is the encoder zitadel/oidc's form_post page is given: the
// response's fields as they are.
type encodeValues map[string]string

func (encodeValues) Encode(src any, dst map[string][]string) error {
	for k, v := range src.(encodeValues) {
		dst[k] = []string{v}
	}
	return nil
}

// zitadel/oidc's own form_post page reads back exactly, whatever the
// values hold; one it could not write properly is left alone.
func TestParseFormPost(t *testing.T) {
	for _, tc := range []struct {
		redirectURI string
		params      encodeValues
		want        []formField // nil: not ours to redo
	}{
		{"https://app.example/cb?tenant=a&x=1", encodeValues{"code": "abc.DEF-ghi_~", "state": `s"<&>'`},
			[]formField{{"state", `s"<&>'`}, {"code", "abc.DEF-ghi_~"}}},
		{"http://127.0.0.1:8080/cb", encodeValues{"code": "c"}, []formField{{"code", "c"}}},
		// html/template writes "#ZgotmplZ" for a scheme it does not trust.
		{"com.example.app:/cb", encodeValues{"code": "c"}, nil},
	} {
		rec := httptest.NewRecorder()
		if err := zop.AuthResponseFormPost(rec, tc.redirectURI, tc.params, tc.params); err != nil {
			t.Fatal(err)
		}
		action, fields, ok := parseFormPost(rec.Body.String())
		if tc.want == nil {
			if ok {
				t.Errorf("%s: parsed %q %v from a page zitadel/oidc could not write", tc.redirectURI, action, fields)
			}
			continue
		}
		if !ok || action != tc.redirectURI || !slices.Equal(fields, tc.want) {
			t.Errorf("%s: parsed %q %v (ok %v), want %v from:\n%s", tc.redirectURI, action, fields, ok, tc.want, rec.Body)
		}
	}
	if _, _, ok := parseFormPost("<!doctype html><p>something else</p>"); ok {
		t.Error("parsed a page that is no form")
	}
}
