package login

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/twofold-id/twofold/i18n"
)

// The language switch of every page is a small form that posts the chosen
// language (i18n.SwitchField) to the page's own address. languageSwitch
// answers it before the page's handler runs: it remembers the choice in a
// cookie (i18n.SwitchCookie) and sends the browser back to the page, so it
// works without JavaScript and changes nothing else.
//
// LanguageSwitch is it for a whole site of pages, in front of the routes:
// a page that takes only GET is switched too. It reads (at most 16 KiB
// of) every POSTed form, so it goes in front of pages only, never of the
// protocol or API endpoints.
func (s *Service) LanguageSwitch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		s.languageSwitch(next).ServeHTTP(w, r)
	})
}

func (s *Service) languageSwitch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if r.Method != http.MethodPost || !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			next.ServeHTTP(w, r)
			return
		}
		if err := readForm(r); err != nil {
			pe, _ := err.(*pageError) // readForm answers pageErrors only
			s.errorPage(pe).ServeHTTP(w, r)
			return
		}
		if !r.PostForm.Has(i18n.SwitchField) {
			next.ServeHTTP(w, r)
			return
		}
		if err := s.csrf.Check(r); err != nil {
			s.errorPage(errCrossOrigin).ServeHTTP(w, r)
			return
		}
		tag, _ := s.pages.Bundle().Supported(r.PostForm.Get(i18n.SwitchField))
		id := r.PostForm.Get("authRequestID")
		if len(id) > 128 {
			id = ""
		}
		http.SetCookie(w, i18n.SwitchCookie(tag, id, s.cfg.Secure))
		http.Redirect(w, r, switchBack(r.URL, id), http.StatusSeeOther)
	})
}

// switchBackPaths are the pages that answer a form at an address that
// does not show a page: the switch on the answer goes back to the page.
var switchBackPaths = map[string]string{
	"/login/password":            "/login",
	"/login/code/resend":         "/login/code",
	"/login/code/method":         "/login/code",
	"/account/password":          "/account",
	"/account/methods/remove":    "/account",
	"/account/methods/preferred": "/account",
	"/account/sessions/end":      "/account",
	"/account/recovery-codes":    "/account",
}

// switchBack is the page the switch was used on, as a GET: its address,
// with the sign-in it serves when the address does not carry it.
func switchBack(u *url.URL, authRequestID string) string {
	path := u.Path
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		path = "/" // never another host
	}
	if p, ok := switchBackPaths[path]; ok {
		path = p
	}
	path = strings.TrimSuffix(path, "/verify") // an enrolment's code form: its page
	q := u.Query()
	if authRequestID != "" && q.Get("authRequestID") == "" {
		q.Set("authRequestID", authRequestID)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
