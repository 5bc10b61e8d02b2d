package op

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// zitadel/oidc answers every authorization error with a redirect, query or
// fragment, even when the request asked for response_mode=form_post: a
// relying party whose callback takes only the POST never saw the error.
// formPostErrors turns such a redirect into the form the request asked for.

// formPostErrors holds back a redirect to redirectURI that carries an OAuth
// error and answers with an auto-submitting form instead.
type formPostErrors struct {
	http.ResponseWriter
	redirectURI string
	held        bool
}

func (f *formPostErrors) WriteHeader(code int) {
	if code == http.StatusFound && !f.held {
		if params := errorParams(f.Header().Get("Location"), f.redirectURI); params != nil {
			f.held = true
			f.Header().Del("Location")
			writeFormPost(f.ResponseWriter, f.redirectURI, params)
			return
		}
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *formPostErrors) Write(b []byte) (int, error) {
	if f.held {
		return len(b), nil // the redirect's own body
	}
	return f.ResponseWriter.Write(b)
}

// errorParams returns the error parameters of a redirect to redirectURI
// (error, error_description, error_uri, state), or nil when location is
// not an error redirect to it.
func errorParams(location, redirectURI string) []formField {
	base, _, _ := strings.Cut(redirectURI, "?")
	if location == "" || !strings.HasPrefix(location, base) {
		return nil
	}
	u, err := url.Parse(location)
	if err != nil || u.Query().Get("error") == "" {
		return nil
	}
	var out []formField
	for _, name := range []string{"error", "error_description", "error_uri", "state"} {
		if v := u.Query().Get(name); v != "" {
			out = append(out, formField{name, v})
		}
	}
	return out
}

type formField struct{ Name, Value string }

var formPostPage = template.Must(template.New("form_post").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Returning to the application · twofold</title><link rel="stylesheet" href="/static/style.css"></head>
<body><main><form method="post" action="{{.Action}}">{{range .Fields}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}
<p>Returning to the application…</p><button type="submit">Continue</button></form></main>
<script src="/static/form_post.js"></script></body></html>`))

// writeFormPost answers with a page whose form posts fields to action
// (OAuth 2.0 Form Post Response Mode); a script sends it at once.
func writeFormPost(w http.ResponseWriter, action string, fields []formField) {
	var buf bytes.Buffer
	// action is a redirect URI the client registered and zitadel/oidc
	// matched exactly; a native app's custom scheme must survive escaping.
	formPostPage.Execute(&buf, map[string]any{"Action": template.URL(action), "Fields": fields})
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self' http: https:; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	buf.WriteTo(w)
}
