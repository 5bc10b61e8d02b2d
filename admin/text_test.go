package admin

import (
	"testing"
)

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		body, field string
		bad         bool
	}{
		{`{"username": "eve", "password": "x"}`, "", false},
		{`{"username": "eve", "username": "mallory"}`, "username", true},
		{`{"policy": {"ttl": 1, "ttl": 2}}`, "policy.ttl", true},
		{`{"a": {"x": 1}, "b": {"x": 2}}`, "", false}, // the same key in two objects
		{`[{"x": 1}, {"x": 2}]`, "", false},
		{`{"redirect_uris": ["https://a.example/", "https://b.example/\u0000"]}`, "redirect_uris", true},
		{`{"name": "a\u0000b"}`, "name", true},
		{`{"k\u0000": 1}`, "", true},
		{"{\"name\": \"\xff\"}", "", true},
		{`{"name": "a\\u0000"}`, "", false}, // an escaped backslash, not NUL
		{`{"name": `, "", false},            // a syntax error is the decoder's to report
		{``, "", false},
	} {
		err := checkJSON([]byte(tc.body))
		e, ok := AsError(err)
		if tc.bad != (err != nil) || (ok && e.Field != tc.field) {
			t.Errorf("checkJSON(%s) = %v, want bad=%v field %q", tc.body, err, tc.bad, tc.field)
		}
	}
}
