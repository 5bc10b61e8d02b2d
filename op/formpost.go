package op

import (
	"bytes"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/i18n"
)

// zitadel/oidc answers every authorization error with a redirect, query or
// fragment, even when the request asked for response_mode=form_post: a
// relying party whose callback takes only the POST never saw the error.
// formPostErrors turns such a redirect into the form the request asked for.

// formPostErrors holds back a redirect to redirectURI that carries an OAuth
// error and answers with an auto-submitting form instead.
type formPostErrors struct {
	http.ResponseWriter
	pages       *i18n.Pages
	lang        language.Tag
	redirectURI string
	held        bool
}

func (f *formPostErrors) WriteHeader(code int) {
	if code == http.StatusFound && !f.held {
		if params := errorParams(f.Header().Get("Location"), f.redirectURI); params != nil {
			f.held = true
			f.Header().Del("Location")
			if writeFormPost(f.ResponseWriter, f.pages, f.lang, f.redirectURI, params) != nil {
				writeError(f.ResponseWriter, &pageLang{f.pages, f.lang}, http.StatusInternalServerError, "server_error", "internal error")
			}
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

// zitadel/oidc answers a successful form_post request with a page of its
// own: no language, title or heading, no button, and an inline onload
// handler that submits the form. Without JavaScript a user is left on a
// blank page with the code in it. formPostAnswer holds that page back and
// answers with ours (form_post.html): the same fields, a Continue button,
// and form_post.js to send it at once.
type formPostAnswer struct {
	http.ResponseWriter
	held bool
	body bytes.Buffer
}

// WriteHeader holds back a 200: at /authorize/callback only the form_post
// page answers 200 (a success redirects, errors are 4xx and 5xx).
func (f *formPostAnswer) WriteHeader(code int) {
	if code == http.StatusOK && !f.held {
		f.held = true
		return
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *formPostAnswer) Write(b []byte) (int, error) {
	if f.held {
		return f.body.Write(b)
	}
	return f.ResponseWriter.Write(b)
}

// finish sends our page in place of the one held back, or the held page as
// it was when it cannot be read (a library upgrade changed it): a page
// that needs JavaScript is better than none.
func (f *formPostAnswer) finish(pages *i18n.Pages, lang language.Tag) {
	if !f.held {
		return
	}
	action, fields, ok := parseFormPost(f.body.String())
	if ok && writeFormPost(f.ResponseWriter, pages, lang, action, fields) == nil {
		return
	}
	f.ResponseWriter.WriteHeader(http.StatusOK)
	f.body.WriteTo(f.ResponseWriter)
}

var (
	formPostActionRE = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	formPostFieldRE  = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"\s*/?>`)
)

// parseFormPost reads the action and fields of zitadel/oidc's form_post
// page. html/template wrote them escaped; an action it refused to write
// (a custom scheme becomes "#ZgotmplZ") is not a page we can redo.
func parseFormPost(page string) (string, []formField, bool) {
	m := formPostActionRE.FindStringSubmatch(page)
	if m == nil {
		return "", nil, false
	}
	action := html.UnescapeString(m[1])
	if u, err := url.Parse(action); err != nil || !u.IsAbs() {
		return "", nil, false
	}
	var fields []formField
	for _, f := range formPostFieldRE.FindAllStringSubmatch(page, -1) {
		fields = append(fields, formField{f[1], html.UnescapeString(f[2])})
	}
	if len(fields) == 0 {
		return "", nil, false
	}
	return action, fields, true
}

// writeFormPost answers with form_post.html, whose form posts fields to
// action (OAuth 2.0 Form Post Response Mode); form_post.js sends it at
// once, and its button does without JavaScript. A template that fails
// writes nothing and returns the error.
func writeFormPost(w http.ResponseWriter, pages *i18n.Pages, lang language.Tag, action string, fields []formField) error {
	var buf bytes.Buffer
	// action is a redirect URI the client registered and zitadel/oidc
	// matched exactly; a native app's custom scheme must survive escaping.
	if err := pages.Execute(&buf, lang, "form_post.html", map[string]any{
		"Title": "form_post.title", "Action": template.URL(action), "Fields": fields, "NoLanguageSwitch": true}); err != nil {
		return err
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self' http: https:; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	buf.WriteTo(w)
	return nil
}
