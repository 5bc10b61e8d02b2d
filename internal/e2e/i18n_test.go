package e2e

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/internal/testkit"
)

// acceptLanguage sends every request of a browser with an Accept-Language
// header, as a browser set to that language does, and asks for pages as
// browsers do.
type acceptLanguage struct {
	next http.RoundTripper
	lang string
}

func (a acceptLanguage) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", a.lang)
	if r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	}
	return a.next.RoundTrip(r)
}

// speaking makes b a browser set to lang.
func speaking(b *testkit.Browser, lang string) *testkit.Browser {
	b.HTTP.Transport = acceptLanguage{next: b.HTTP.Transport, lang: lang}
	return b
}

var htmlLang = regexp.MustCompile(`<html lang="([^"]+)"`)

// langOf is the language a page says it is in.
func langOf(p *testkit.Page) string {
	if m := htmlLang.FindStringSubmatch(p.Body); m != nil {
		return m[1]
	}
	return ""
}

// leftovers are the English sentences of the catalogue (those without
// values to fill in, of a dozen characters and more) that a translation
// words differently: none may show on a page in that language.
func leftovers(b *i18n.Bundle, tag language.Tag) []string {
	var out []string
	for _, k := range b.Keys(i18n.Source) {
		en, tr := b.Text(i18n.Source, k), b.Text(tag, k)
		if strings.HasPrefix(k, "format.") || strings.Contains(en, "<no value>") || len(en) < 12 || en == tr {
			continue
		}
		out = append(out, en)
	}
	return out
}

// checkPage fails when a page is not wholly in tag: its <html lang> and
// Content-Language, no message id shown raw, and no English sentence left.
func checkPage(t *testing.T, tag language.Tag, name string, p *testkit.Page) {
	t.Helper()
	b := i18n.Default()
	if got := langOf(p); got != tag.String() {
		t.Errorf("%s: <html lang=%q>, want %s", name, got, tag)
	}
	if got := p.Header.Get("Content-Language"); got != tag.String() {
		t.Errorf("%s: Content-Language %q, want %s", name, got, tag)
	}
	text := html.UnescapeString(p.Body)
	for _, k := range b.Keys(i18n.Source) {
		if strings.Contains(text, k) {
			t.Errorf("%s: shows the message id %q:\n%s", name, k, p.Body)
		}
	}
	if tag == i18n.Source {
		return
	}
	for _, en := range leftovers(b, tag) {
		if strings.Contains(text, en) {
			t.Errorf("%s in %s: English left: %q", name, tag, en)
		}
	}
}

// A full sign-in in every language of the catalogues, chosen by the
// browser's Accept-Language: the sign-in page, a wrong password, the code
// page, a wrong code, the way back to the application, and the error and
// signed-out pages, each wholly in that language; the text message too.
func TestSignInInEveryLanguage(t *testing.T) {
	s, tw, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	b := i18n.Default()
	if len(b.Tags()) < 4 {
		t.Fatalf("languages: %v", b.Tags())
	}
	for _, tag := range b.Tags() {
		t.Run(tag.String(), func(t *testing.T) {
			br := speaking(s.NewBrowser(t), tag.String()+",en;q=0.5")
			f := app.Start(br, nil)
			checkPage(t, tag, "sign-in", f.Page)
			checkPage(t, tag, "wrong password", f.Password("alice", "not-the-password").Page)
			f.Password("alice", "alice-password")
			checkPage(t, tag, "code", f.Page)
			code := tw.LastCode(alicePhone)
			msgs := tw.Messages()
			wantSMS := b.Text(tag, "sms.sign_in", "AppName", "twofold", "Code", code, "TTL", i18n.M("ttl.minutes", 5))
			if last := msgs[len(msgs)-1].Body; !strings.HasPrefix(last, wantSMS) {
				t.Errorf("text message %q, want it to begin %q", last, wantSMS)
			}
			checkPage(t, tag, "wrong code", f.SubmitCode("000000").Page)
			if f.SubmitCode(code).Code() == "" {
				t.Fatal("no code for the application")
			}
			checkPage(t, tag, "unknown sign-in", br.Get("/login?authRequestID=no-such-request"))
			checkPage(t, tag, "signed out", br.Get("/logged-out"))
		})
	}
}

// The application's ui_locales choose the language of its sign-in over
// the browser's; a language picked with the switch during that sign-in
// wins over them for it, and is remembered for pages without ui_locales,
// while the next sign-in with ui_locales follows them again.
func TestUILocalesChooseTheLanguage(t *testing.T) {
	s, _, _ := codeServer(t, testkit.ServerOptions{})
	s.CreateUserWith(t, testkit.UserSpec{Username: "alice", Password: "alice-password", Phone: alicePhone, Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	br := speaking(s.NewBrowser(t), "de")

	f := app.Start(br, testkit.AuthParams{"ui_locales": "fr-CA en"})
	checkPage(t, language.French, "sign-in with ui_locales=fr-CA", f.Page)
	f.Password("alice", "alice-password")
	checkPage(t, language.French, "code with ui_locales=fr-CA", f.Page)

	// The switch, on the code page of this sign-in.
	id := f.Page.Field("authRequestID")
	p := br.Post("/login/code", url.Values{"authRequestID": {id}, i18n.SwitchField: {"es"}})
	if p.Status != http.StatusSeeOther || p.Location != "/login/code?authRequestID="+url.QueryEscape(id) {
		t.Fatalf("the switch: %d to %q, want 303 back to the code page", p.Status, p.Location)
	}
	checkPage(t, language.Spanish, "code after the switch", br.Get(p.Location))
	checkPage(t, language.Spanish, "signed out after the switch", br.Get("/logged-out"))

	// A new sign-in asking for French gets French again.
	g := app.Start(br, testkit.AuthParams{"ui_locales": "fr"})
	checkPage(t, language.French, "the next sign-in with ui_locales=fr", g.Page)
	// A language the catalogues lack falls through to the browser's choice.
	h := app.Start(speaking(s.NewBrowser(t), "de"), testkit.AuthParams{"ui_locales": "ja"})
	checkPage(t, language.German, "ui_locales=ja", h.Page)
}

// A language picked with the switch beats the browser's Accept-Language;
// the switch works on any page, without JavaScript, and a cross-site
// switch is refused.
func TestLanguageCookieBeatsAcceptLanguage(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	br := speaking(s.NewBrowser(t), "de-DE,de;q=0.9")
	checkPage(t, language.German, "signed out, Accept-Language de", br.Get("/logged-out"))

	p := br.Post("/logged-out", url.Values{i18n.SwitchField: {"fr"}})
	if p.Status != http.StatusSeeOther || p.Location != "/logged-out" {
		t.Fatalf("the switch: %d to %q", p.Status, p.Location)
	}
	checkPage(t, language.French, "signed out, after the switch to French", br.Get("/logged-out"))
	checkPage(t, language.French, "page not found", br.Get("/no-such-page"))

	// A language the catalogues lack is English, not an error.
	br.Post("/logged-out", url.Values{i18n.SwitchField: {"xx"}})
	checkPage(t, language.English, "after a switch to a language there is none of", br.Get("/logged-out"))

	// A switch posted from another site changes nothing.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/logged-out", strings.NewReader(i18n.SwitchField+"=es"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := br.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site switch: %d, want 403", resp.StatusCode)
	}
	checkPage(t, language.English, "after a cross-site switch", br.Get("/logged-out"))
}

// Codes and notices go to a user in the user's own language, whatever
// the language of the sign-in's pages: a text to a German user is German,
// a call reads German with a German voice, an email is German; the
// profile scope returns the locale.
func TestMessagesInTheUsersLanguage(t *testing.T) {
	s, tw, mail := codeServer(t, testkit.ServerOptions{})
	b := i18n.Default()
	for _, tc := range []struct {
		method string
		check  func(t *testing.T, code string)
	}{
		{"sms", func(t *testing.T, code string) {
			msgs := tw.Messages()
			want := b.Text(language.German, "sms.sign_in", "AppName", "twofold", "Code", code, "TTL", i18n.M("ttl.minutes", 5))
			if body := msgs[len(msgs)-1].Body; !strings.HasPrefix(body, want) || !strings.HasPrefix(want, "Ihr twofold-Code lautet") {
				t.Errorf("text %q, want it to begin %q", body, want)
			}
		}},
		{"voice", func(t *testing.T, _ string) {
			calls := tw.Calls()
			twiml := calls[len(calls)-1].Twiml
			if !strings.Contains(twiml, `<Say language="de-DE">Ihr twofold-Code lautet`) || strings.Contains(twiml, "Your") {
				t.Errorf("call %s, want German with a German voice", twiml)
			}
		}},
		{"email", func(t *testing.T, _ string) {
			msgs := mail.Messages()
			m := msgs[len(msgs)-1]
			if m.Subject != "Ihr twofold-Anmeldecode" || !strings.Contains(m.TextBody, "Geben Sie diesen Code ein") ||
				!strings.Contains(m.HTMLBody, `<html lang="de">`) || strings.Contains(m.TextBody, "Enter this code") {
				t.Errorf("mail %q:\n%s\n%s", m.Subject, m.TextBody, m.HTMLBody)
			}
		}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			name := "hans-" + tc.method
			s.CreateUserWith(t, testkit.UserSpec{Username: name, Password: "hans-password", Phone: alicePhone,
				Email: name + "@example.com", Methods: []string{tc.method}, Locale: "de"})
			app := s.NewRP(t, testkit.ClientOptions{})
			f := app.Start(speaking(s.NewBrowser(t), "en"), nil).Password(name, "hans-password")
			checkPage(t, language.English, "code page of an English browser", f.Page)
			code := tw.LastCode(alicePhone)
			if tc.method == "email" {
				code = mail.LastCode(name + "@example.com")
			}
			tc.check(t, code)
			tokens, err := f.SubmitCode(code).Exchange(f.Code())
			if err != nil {
				t.Fatal(err)
			}
			info, err := rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, "Bearer", tokens.IDTokenClaims.Subject, app.Party)
			if err != nil {
				t.Fatal(err)
			}
			if info.Locale == nil || info.Locale.String() != "de" {
				t.Errorf("userinfo locale %v, want de", info.Locale)
			}
		})
	}

	// A user without a locale gets the language of the sign-in that sent it.
	s.CreateUserWith(t, testkit.UserSpec{Username: "anne", Password: "anne-password", Phone: "+14155550199", Methods: []string{"sms"}})
	app := s.NewRP(t, testkit.ClientOptions{})
	app.Start(speaking(s.NewBrowser(t), "es"), nil).Password("anne", "anne-password")
	msgs := tw.Messages()
	if body := msgs[len(msgs)-1].Body; !strings.HasPrefix(body, "Su código de twofold es") {
		t.Errorf("text to a user without a locale, signing in in Spanish: %q", body)
	}
}
