package i18n

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// CookieName is the cookie that remembers the language a person chose
// with the pages' language switch.
const CookieName = "twofold_lang"

// SwitchField is the form field of the pages' language switch.
const SwitchField = "ui_lang"

// signIn is what a request knows of the sign-in it serves once its
// handler loaded it: the application's ui_locales.
type signIn struct {
	id        string
	uiLocales []string
	chosen    language.Tag // Choose's answer, once asked
	known     bool         // chosen is set
}

type ctxKey struct{}

// Prepare gives r a place for the language hints of the sign-in it will
// load (SetSignIn); pages call it before their handler runs.
func Prepare(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, &signIn{}))
}

// SetSignIn tells the request's language choice which sign-in it serves
// and the ui_locales its application asked for (OIDC Core 3.1.2.1).
func SetSignIn(ctx context.Context, authRequestID string, uiLocales []string) {
	if s, ok := ctx.Value(ctxKey{}).(*signIn); ok {
		s.id, s.uiLocales, s.known = authRequestID, uiLocales, false
	}
}

// Choose is the language of a page for r: the application's ui_locales
// for the sign-in, unless the person used the language switch during
// this very sign-in; then the language chosen with the switch
// (remembered in CookieName); then the browser's Accept-Language; then
// the Source.
func (b *Bundle) Choose(r *http.Request) language.Tag {
	hint, _ := r.Context().Value(ctxKey{}).(*signIn)
	if hint != nil && hint.known {
		return hint.chosen // a request asks once per sign-in it learns of
	}
	tag := b.choose(r, hint)
	if hint != nil {
		hint.chosen, hint.known = tag, true
	}
	return tag
}

func (b *Bundle) choose(r *http.Request, hint *signIn) language.Tag {
	chosen, during := parseCookie(r)
	if hint != nil && len(hint.uiLocales) > 0 && !(chosen != "" && hint.id != "" && during == mark(hint.id)) {
		if t, ok := b.match(strings.Join(hint.uiLocales, " ")); ok {
			return t
		}
	}
	if chosen != "" {
		if t, ok := b.Supported(chosen); ok {
			return t
		}
	}
	if accept := r.Header.Get("Accept-Language"); accept != "" && len(accept) < 512 {
		return b.acceptLanguage(accept)
	}
	return Source
}

// acceptLanguage is the catalogue that best serves an Accept-Language
// header. Browsers send few distinct headers and matching one costs some
// 20 µs, so answers are remembered (up to maxAccepted headers).
func (b *Bundle) acceptLanguage(accept string) language.Tag {
	if t, ok := b.accepted.Load(accept); ok {
		return t.(language.Tag)
	}
	tag := Source
	if tags, _, err := language.ParseAcceptLanguage(accept); err == nil && len(tags) > 0 {
		if _, i, c := b.matcher.Match(tags...); c != language.No {
			tag = b.tags[i]
		}
	}
	if b.acceptedN.Add(1) <= maxAccepted {
		b.accepted.Store(accept, tag)
	}
	return tag
}

// maxAccepted bounds the remembered Accept-Language headers: a client
// sending a new one with every request must not grow memory.
const maxAccepted = 4096

// match picks the catalogue that best serves a space-separated list of
// tags in order of preference (ui_locales), when one does.
func (b *Bundle) match(list string) (language.Tag, bool) {
	var tags []language.Tag
	for _, f := range strings.Fields(list) {
		if t, err := language.Parse(f); err == nil {
			tags = append(tags, t)
		}
	}
	if len(tags) == 0 {
		return Source, false
	}
	_, i, c := b.matcher.Match(tags...)
	return b.tags[i], c != language.No
}

// parseCookie reads the switch's cookie: the chosen tag, and the mark of
// the sign-in it was chosen during, if any.
func parseCookie(r *http.Request) (tag, during string) {
	c, err := r.Cookie(CookieName)
	if err != nil || len(c.Value) > 64 {
		return "", ""
	}
	tag, during, _ = strings.Cut(c.Value, ".")
	return tag, during
}

// mark names a sign-in in the cookie without carrying its id.
func mark(authRequestID string) string {
	sum := sha256.Sum256([]byte(authRequestID))
	return hex.EncodeToString(sum[:8])
}

// SwitchCookie remembers tag, chosen with the language switch during the
// sign-in authRequestID ("" outside a sign-in), for a year.
func SwitchCookie(tag language.Tag, authRequestID string, secure bool) *http.Cookie {
	v := tag.String()
	if authRequestID != "" {
		v += "." + mark(authRequestID)
	}
	return &http.Cookie{Name: CookieName, Value: v, Path: "/", MaxAge: int(365 * 24 * time.Hour / time.Second),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}
