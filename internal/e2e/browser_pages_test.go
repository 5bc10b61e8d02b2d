package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"

	"github.com/twofold-id/twofold/internal/server"
	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// The icons every page links are served as images.
func TestFavicon(t *testing.T) {
	s := testkit.NewServer(t, testkit.ServerOptions{})
	b := s.NewBrowser(t)
	for path, want := range map[string][]string{
		"/static/favicon.svg": {"image/svg+xml"},
		// The type of .ico comes from the system's MIME table, or else
		// from the file's first bytes.
		"/static/favicon.ico":          {"image/vnd.microsoft.icon", "image/x-icon"},
		"/static/apple-touch-icon.png": {"image/png"},
	} {
		p := b.Get(path)
		if got, _, _ := strings.Cut(p.Header.Get("Content-Type"), ";"); p.Status != http.StatusOK || !slices.Contains(want, got) || len(p.Body) < 100 {
			t.Errorf("GET %s: %d %q, %d bytes; want 200 %s", path, p.Status, got, len(p.Body), want)
		}
	}
	if body := b.Get("/static/favicon.svg").Body; !strings.HasPrefix(body, "<svg") || !strings.Contains(body, `viewBox="0 0 32 32"`) {
		t.Errorf("favicon.svg is not a square SVG: %.80q", body)
	}
}

// TestBrowserPages walks every page a person can meet in Chromium (the
// sign-in, the code and its alternatives, recovery, enrolment, the account
// page, the sign-out pages, form_post, the error pages and the demo) and
// checks each one as it stands: it fits every width from 320 to 1,440 px
// without sideways scrolling, Tab visits its controls in order with a
// visible focus ring, and axe-core (TWOFOLD_TEST_AXE, light and dark)
// finds no WCAG 2.2 A/AA or best-practice violation. The findings of all
// pages are reported together in the subtests fit, focus and axe, so one
// run shows every page that needs work.
func TestBrowserPages(t *testing.T) {
	b := newTab(t)
	s := devServer(t)
	sites := startSites(t, s)
	b.closeBeforeServers()
	c := newPageChecker(b)
	walkPages(t, b, s, sites, c.check)

	t.Logf("checked %d pages: %s", len(c.pages), strings.Join(c.pages, ", "))
	report := func(name string, findings []string) {
		t.Run(name, func(t *testing.T) {
			for _, f := range findings {
				t.Error(f)
			}
		})
	}
	report("favicon", c.head)
	report("fit", c.fit)
	report("focus", c.focus)
	t.Run("axe", func(t *testing.T) {
		if c.axe == "" {
			t.Skip("TWOFOLD_TEST_AXE not set (the path of axe-core's axe.min.js); skipping the axe-core checks")
		}
		for _, f := range c.violations {
			t.Error(f)
		}
	})
}

// switchLanguage uses the pages' language switch (without JavaScript's
// help: it is a form) and checks that the page is in that language.
func switchLanguage(b *tab, lang string) {
	b.t.Helper()
	b.load("switch the language to "+lang, chromedp.Click(chromedp.CSS(`nav.languages button[value="`+lang+`"]`)))
	if got := evaluate[string](b, "document.documentElement.lang"); got != lang {
		b.fail("after the switch to %s the page is in %q", lang, got)
	}
}

// walkPages signs in, enrols, manages the account, signs out and fails in
// the ways a person does, and calls check on every page on the way, named.
func walkPages(t *testing.T, b *tab, s *testkit.Server, sites *sites, check func(name string)) {
	// A long address as username and a session from an IPv6 address with a
	// long user agent test that long words wrap instead of widening a page.
	const user, pass = "pat.longname-for-layout@example-organisation.com", "pat's long password"
	userID := s.CreateUserWith(t, testkit.UserSpec{Username: user, Password: pass, Phone: "+14155550123",
		Email: "pat.longname-for-layout@example-organisation.com", Methods: []string{"sms", "voice", "email"}})
	addSession(t, s, userID)

	// The demo, the sign-in, a wrong password.
	b.load("open the demo", chromedp.Navigate(s.URL+"/demo"))
	check("demo")
	b.load("start the demo sign-in", chromedp.Click(chromedp.ID("start")))
	b.checkPasswordForm()
	check("sign-in")
	b.signIn(user, "not the password")
	check("sign-in, wrong password")

	// The code page with its cooldown and other methods; a wrong code.
	b.do("type the password", chromedp.SendKeys(chromedp.ID("password"), pass))
	b.load("submit the password", chromedp.Click(chromedp.CSS(`form[action="/login/password"] button[type="submit"]`)))
	b.wantPath(s.URL, "/login/code")
	check("code, with other methods")
	submitCode(b, "000000")
	check("code, wrong code")
	// The language switch, on a page that answered a form: French, then
	// English again, on the same sign-in's code page.
	switchLanguage(b, "fr")
	b.wantPath(s.URL, "/login/code")
	check("code, in French (language switch)")
	switchLanguage(b, "en")
	submitCode(b, lastDevCode(t, s))
	b.wantPath(s.URL, "/demo/callback")
	check("demo result")

	// The account page, new recovery codes, an authenticator from there.
	b.load("open the account page", chromedp.Navigate(s.URL+"/account"))
	b.wantPath(s.URL, "/account")
	check("account, no recovery codes")
	b.load("get recovery codes", chromedp.Click(chromedp.CSS(`form[action="/account/recovery-codes"] button`)))
	check("recovery codes shown")
	recovery := strings.Fields(b.text("#recovery-codes"))
	if len(recovery) == 0 {
		b.fail("no recovery codes shown")
	}
	b.load("back to the account", chromedp.Click(chromedp.ID("continue")))
	b.wantPath(s.URL, "/account")
	check("account")
	b.load("add an authenticator app", chromedp.Click(chromedp.ID("add-totp")))
	check("enrolment, authenticator app, from the account")

	// Sign-out: the confirmation, staying, leaving.
	b.load("open a bare sign-out link", chromedp.Navigate(s.URL+"/end_session"))
	check("sign-out confirmation")
	b.load("stay signed in", chromedp.Click(chromedp.CSS(`button[value="no"]`)))
	check("sign-out, stayed signed in")
	b.load("open the sign-out link again", chromedp.Navigate(s.URL+"/end_session"))
	b.load("sign out", chromedp.Click(chromedp.CSS(`button[value="yes"]`)))
	b.wantPath(s.URL, "/logged-out")
	check("signed out")

	// An application asks without a session and prompt=none: the error
	// goes back by form_post, shown here as it is without JavaScript.
	app := s.NewRP(t, testkit.ClientOptions{Name: "Payroll", RedirectURIs: []string{sites.app + "/cb"}})
	noScript(b, s.URL+"/static/form_post.js")
	b.load("authorize with prompt=none", chromedp.Navigate(authURL(app, rp.WithPrompt("none"), rp.AuthURLOpt(rp.WithURLParam("response_mode", "form_post")))))
	check("form_post, error")

	// A recovery code instead of the second factor, and the code goes
	// back by form_post, again without JavaScript.
	b.load("authorize with form_post", chromedp.Navigate(authURL(app, rp.AuthURLOpt(rp.WithURLParam("response_mode", "form_post")))))
	b.signIn(user, pass)
	b.load("use a recovery code", chromedp.Click(chromedp.ID("use-recovery")))
	check("recovery")
	b.do("type a recovery code", chromedp.SendKeys(chromedp.ID("code"), recovery[0]))
	b.load("submit the recovery code", chromedp.Click(chromedp.CSS(`form[action="/login/recovery"] button`)))
	check("recovery code accepted")
	resp := b.load("continue to the application", chromedp.Click(chromedp.ID("continue")))
	b.wantPath(s.URL, "/authorize/callback")
	wantHeaders(b, resp)
	check("form_post")
	b.load("continue without JavaScript", chromedp.Click(chromedp.CSS(`form[method="post"] button[type="submit"]`)))
	b.wantPath(sites.app, "/cb")

	// A newcomer whose application requires a second factor enrols.
	requireFactorFor(t, s, "demo")
	s.CreateUserWith(t, testkit.UserSpec{Username: "newcomer", Password: "newcomer's password"})
	b.load("sign in again at the demo", chromedp.Navigate(s.URL+"/demo/login?prompt=login"))
	b.signIn("newcomer", "newcomer's password")
	b.wantPath(s.URL, "/login/enrol")
	check("enrolment choice")
	b.load("choose the authenticator app", chromedp.Click(chromedp.ID("enrol-totp")))
	check("enrolment, authenticator app")
	b.load("choose another method", chromedp.Click(chromedp.CSS(`a[href^="/login/enrol?"]`)))
	b.load("choose email", chromedp.Click(chromedp.ID("enrol-email")))
	check("enrolment, email")
	b.load("choose another method", chromedp.Click(chromedp.CSS(`a[href^="/login/enrol?"]`)))
	b.load("choose SMS", chromedp.Click(chromedp.ID("enrol-sms")))
	check("enrolment, phone")
	b.do("type a number", chromedp.SendKeys(chromedp.ID("destination"), "+14155550124"))
	b.load("send a code", chromedp.Click(chromedp.CSS(`form[action="/login/enrol/phone"] button`)))
	check("enrolment, verify the code")

	// The error pages: an unknown address, a dead sign-in link, a form
	// sent from another site.
	b.load("open a missing page", chromedp.Navigate(s.URL+"/no/such/page"))
	check("error, page not found")
	b.load("open a dead sign-in link", chromedp.Navigate(s.URL+"/login/code?authRequestID=gone"))
	check("error, unknown sign-in")
	b.load("open another site", chromedp.Navigate(sites.other))
	b.load("send its form to twofold", chromedp.Click(chromedp.ID("send")))
	check("error, form from another site")
}

// submitCode types a code into the code page and sends it.
func submitCode(b *tab, code string) {
	b.t.Helper()
	b.do("type the code", chromedp.SetValue(chromedp.ID("code"), code))
	b.load("submit the code", chromedp.Click(chromedp.CSS(`form[action="/login/code"] button[type="submit"]`)))
}

// addSession gives the user a second session, from an IPv6 address with a
// long user agent, so the account page lists one the user can end.
func addSession(t *testing.T, s *testkit.Server, userID string) {
	t.Helper()
	now := s.Clock.Now()
	sess := &storage.Session{ID: server.NewID(), SID: server.NewID(), UserID: userID, AuthTime: now.Add(-time.Hour),
		AMR: []string{"pwd", "sms"}, ACR: "urn:twofold:acr:2fa", MFAAt: &now, Clients: []string{"demo"},
		IP:        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
		UserAgent: "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro Build/AP2A.240805.005) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.6533.103 Mobile Safari/537.36",
		CreatedAt: now.Add(-time.Hour), LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	if err := s.App.Store.CreateSession(context.Background(), sess); err != nil {
		t.Fatalf("create session: %v", err)
	}
}

// sites are the other web sites of the walk, started before the browser
// so that it closes first (see newTab).
type sites struct {
	app   string // an application's callback: https://host:port
	other string // another site, whose page posts a form to twofold
}

func startSites(t *testing.T, s *testkit.Server) *sites {
	t.Helper()
	app := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><p id="done">back at the application</p>`)
	}))
	t.Cleanup(app.Close)
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/login/password"><button id="send">send</button></form>`, s.URL)
	}))
	t.Cleanup(other.Close)
	return &sites{app: app.URL, other: other.URL}
}

// authURL is an authorization URL of the application, with PKCE.
func authURL(app *testkit.RP, opts ...rp.AuthURLOpt) string {
	sum := sha256.Sum256([]byte(keyring.RandomToken(32)))
	opts = append(opts, rp.WithCodeChallenge(base64.RawURLEncoding.EncodeToString(sum[:])))
	return rp.AuthURL(keyring.RandomToken(8), app.Party, opts...)
}

// noScript keeps the browser from loading a script, so its page stays as a
// person without JavaScript sees it. (Turning scripts off in the tab would
// stop axe-core too.)
func noScript(b *tab, url string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
		URLPatterns: []*network.BlockPattern{{URLPattern: url, Block: true}}}); err != nil {
		b.fail("block %s: %v", url, err)
	}
}

// Widths every page must fit, from a small phone to a desktop; the walk
// itself runs at a phone's.
var (
	pageWidths   = []int64{320, 390, 1280, 1440}
	shotWidths   = []int64{390, 1280}
	walkViewport = [2]int64{390, 844}
)

// pageChecker runs the per-page checks and collects what they find.
type pageChecker struct {
	b     *tab
	axe   string // axe-core's source; empty when TWOFOLD_TEST_AXE is unset
	shots string // TWOFOLD_TEST_SCREENSHOTS: a directory for PNGs of every page

	pages                        []string
	head, fit, focus, violations []string
}

func newPageChecker(b *tab) *pageChecker {
	c := &pageChecker{b: b, shots: os.Getenv("TWOFOLD_TEST_SCREENSHOTS")}
	if path := os.Getenv("TWOFOLD_TEST_AXE"); path != "" {
		src, err := os.ReadFile(path)
		if err != nil {
			b.t.Fatalf("TWOFOLD_TEST_AXE: %v", err)
		}
		c.axe = string(src)
	}
	if c.shots != "" {
		if err := os.MkdirAll(c.shots, 0o755); err != nil {
			b.t.Fatalf("TWOFOLD_TEST_SCREENSHOTS: %v", err)
		}
	}
	b.do("set a phone's viewport", chromedp.EmulateViewport(walkViewport[0], walkViewport[1]))
	return c
}

// check runs every check on the page the tab shows.
func (c *pageChecker) check(name string) {
	c.b.t.Helper()
	c.pages = append(c.pages, name)
	if !evaluate[bool](c.b, iconsJS) {
		c.head = append(c.head, name+": the head does not link /static/favicon.svg and /static/favicon.ico")
	}
	for _, w := range pageWidths {
		c.setViewport(w)
		for _, f := range evaluate[[]string](c.b, overflowJS) {
			c.fit = append(c.fit, fmt.Sprintf("%s at %d px: %s", name, w, f))
		}
	}
	for _, scheme := range []string{"light", "dark"} {
		c.setScheme(scheme)
		c.setViewport(walkViewport[0])
		for _, f := range c.tabThrough() {
			c.focus = append(c.focus, fmt.Sprintf("%s (%s): %s", name, scheme, f))
		}
		if c.axe != "" {
			for _, v := range c.runAxe() {
				c.violations = append(c.violations, fmt.Sprintf("%s (%s): %s", name, scheme, v))
			}
		}
		for _, w := range shotWidths {
			c.screenshot(name, scheme, w)
		}
	}
	c.setScheme("")
	c.setViewport(walkViewport[0])
}

func (c *pageChecker) setViewport(width int64) {
	height := walkViewport[1]
	if width > 1000 {
		height = 800
	}
	c.b.do(fmt.Sprintf("viewport %d px", width), chromedp.EmulateViewport(width, height))
	if got := evaluate[int64](c.b, "innerWidth"); got != width {
		c.b.fail("viewport is %d px wide, want %d", got, width)
	}
}

// setScheme emulates prefers-color-scheme; "" ends the emulation.
func (c *pageChecker) setScheme(scheme string) {
	var p emulation.SetEmulatedMediaParams
	if scheme != "" {
		p.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	if _, err := chromedp.Call(c.b.ctx, emulation.SetEmulatedMedia, p); err != nil {
		c.b.fail("emulate prefers-color-scheme %q: %v", scheme, err)
	}
	if scheme != "" && !evaluate[bool](c.b, fmt.Sprintf("matchMedia('(prefers-color-scheme: %s)').matches", scheme)) {
		c.b.fail("prefers-color-scheme %s is not in effect", scheme)
	}
}

// tabThrough presses Tab through the page from its top and returns what is
// wrong: a control skipped or out of document order, or a focused control
// without a visible focus ring of enough contrast (WCAG 2.4.7, 2.4.11,
// 1.4.11).
func (c *pageChecker) tabThrough() []string {
	c.b.t.Helper()
	want := evaluate[[]string](c.b, focusablesJS)
	// A click on the page's top-left corner, outside any control, once
	// scrolled to the top, moves the start of sequential focus navigation
	// to the top of the page.
	c.b.do("click the top of the page", chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, 0)"), chromedp.MouseClickXY(1, 1))
	var problems, got []string
	for range want {
		c.b.do("press Tab", chromedp.KeyEvent("\t"))
		f := evaluate[focusState](c.b, focusStateJS)
		got = append(got, f.Element)
		if f.Problem != "" {
			problems = append(problems, f.Element+": "+f.Problem)
		}
	}
	c.b.do("blur", chromedp.Evaluate[chromedp.Void]("document.activeElement && document.activeElement.blur()"))
	if strings.Join(got, " ") != strings.Join(want, " ") {
		problems = append(problems, fmt.Sprintf("Tab order %q, want the document order %q", got, want))
	}
	return problems
}

// focusState is what focusStateJS reports about the focused element.
type focusState struct {
	Element string `json:"element"`
	Problem string `json:"problem"`
}

// runAxe runs axe-core on the page and returns its violations.
func (c *pageChecker) runAxe() []string {
	c.b.t.Helper()
	if !evaluate[bool](c.b, "typeof axe === 'object'") {
		c.b.do("load axe-core", chromedp.Evaluate[chromedp.Void](c.axe+"\n;undefined"))
	}
	type violation struct {
		ID, Impact, Help string
		Targets          []string
	}
	vs, err := chromedp.Run(c.b.ctx, chromedp.Evaluate[[]violation](axeRunJS, chromedp.EvalAwaitPromise))
	if err != nil {
		c.b.fail("run axe-core: %v", err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s (%s): %s; at %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", ")))
	}
	return out
}

// screenshot saves a PNG of the whole page when TWOFOLD_TEST_SCREENSHOTS
// names a directory.
func (c *pageChecker) screenshot(name, scheme string, width int64) {
	if c.shots == "" {
		return
	}
	c.setViewport(width)
	png, err := chromedp.Run(c.b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.b.fail("screenshot: %v", err)
	}
	file := fmt.Sprintf("%02d-%s-%d-%s.png", len(c.pages), unsafeFileChars.Replace(name), width, scheme)
	if err := os.WriteFile(filepath.Join(c.shots, file), png, 0o644); err != nil {
		c.b.t.Fatalf("screenshot: %v", err)
	}
}

var unsafeFileChars = strings.NewReplacer(" ", "-", ",", "", "/", "-")

// evaluate runs a JavaScript expression and decodes its value.
func evaluate[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail("evaluate %.60q: %v", expr, err)
	}
	return v
}

// iconsJS says whether the page links twofold's icons.
const iconsJS = `!!document.querySelector('head link[rel=icon][type="image/svg+xml"][href="/static/favicon.svg"]') &&
	!!document.querySelector('head link[rel=icon][href="/static/favicon.ico"]')`

// overflowJS lists what makes the page wider than the viewport (the page
// itself, any element reaching past either edge, any element that cuts off
// its own content sideways) and any masked phone number broken over lines.
const overflowJS = `(() => {
	const doc = document.documentElement, vw = doc.clientWidth, out = [];
	const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
		(el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") +
		(el.textContent ? " " + JSON.stringify(el.textContent.trim().replace(/\s+/g, " ").slice(0, 40)) : "");
	if (doc.scrollWidth > vw) out.push("the page scrolls sideways: " + doc.scrollWidth + " px wide");
	// Content clipped away on purpose (a visually hidden table head) is
	// not on the page.
	const clipped = el => {
		for (let p = el; p; p = p.parentElement) {
			const cs = getComputedStyle(p);
			if (cs.clipPath !== "none" || cs.clip !== "auto") return true;
		}
		return false;
	};
	for (const el of document.body.querySelectorAll("*")) {
		const r = el.getBoundingClientRect();
		if ((r.width === 0 && r.height === 0) || clipped(el)) continue;
		if (r.left < -0.5 || r.right > vw + 0.5) {
			out.push(name(el) + " spans " + Math.round(r.left) + " to " + Math.round(r.right) + " px");
			continue;
		}
		// A text field scrolls its value by nature; anything else that
		// scrolls or clips sideways hides part of what it holds.
		const ox = getComputedStyle(el).overflowX;
		if (ox !== "visible" && el.tagName !== "INPUT" && el.scrollWidth > el.clientWidth + 1) {
			out.push(name(el) + " hides or scrolls content sideways (" + el.scrollWidth + " px in " + el.clientWidth + ")");
		}
	}
	// A masked phone number ("+1 ••• ••• •• 23") is read as one thing:
	// it must never wrap in the middle.
	const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let t; (t = texts.nextNode());) {
		for (const m of t.data.matchAll(/\+\d{1,3}(?:[ \u00a0]+•+)+[ \u00a0]+\d\d/g)) {
			const range = document.createRange();
			range.setStart(t, m.index);
			range.setEnd(t, m.index + m[0].length);
			const lines = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
			if (lines.size > 1) out.push("the masked number " + JSON.stringify(m[0]) + " wraps over " + lines.size + " lines");
		}
	}
	return out;
})()`

// focusablesJS names, in document order, the controls Tab should visit.
const focusablesJS = `(() => {
	const sel = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
	return Array.from(document.querySelectorAll(sel)).filter(el => el.checkVisibility()).map(el => ` + focusNameJS + `);
})()`

// focusNameJS names an element el for the Tab-order report.
const focusNameJS = `el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "[" + (el.getAttribute("aria-label") || el.textContent.trim().replace(/\s+/g, " ").slice(0, 30) || el.name || "") + "]"`

// focusStateJS reports the focused element and whether its focus ring
// shows: an outline of at least 2 px that matches :focus-visible and has a
// contrast of 3:1 against the background around it.
const focusStateJS = `(() => {
	const el = document.activeElement;
	if (!el || el === document.body) return {element: "(nothing)", problem: "Tab left the page"};
	const element = ` + focusNameJS + `;
	const cs = getComputedStyle(el);
	if (!el.matches(":focus-visible")) return {element, problem: "does not match :focus-visible"};
	if (cs.outlineStyle === "none" || parseFloat(cs.outlineWidth) < 2) return {element, problem: "no focus outline of 2 px or more (" + cs.outlineStyle + " " + cs.outlineWidth + ")"};
	const rgb = s => { const m = s.match(/[\d.]+/g).map(Number); return m.length > 3 && m[3] === 0 ? null : m.slice(0, 3); };
	const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	let bg = null;
	for (let p = el.parentElement; p && !bg; p = p.parentElement) bg = rgb(getComputedStyle(p).backgroundColor);
	bg = bg || [255, 255, 255];
	const [a, b] = [lum(rgb(cs.outlineColor)), lum(bg)];
	const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
	if (ratio < 3) return {element, problem: "focus outline " + cs.outlineColor + " has contrast " + ratio.toFixed(2) + ":1 against " + bg + ", want 3:1"};
	return {element, problem: ""};
})()`

// axeRunJS runs axe-core with the WCAG 2.0 to 2.2 A and AA rules and the
// best practices, and returns the violations.
const axeRunJS = `axe.run(document, {
	runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
	resultTypes: ["violations"],
}).then(r => r.violations.map(v => ({
	ID: v.id, Impact: v.impact || "", Help: v.help,
	Targets: v.nodes.map(n => n.target.join(" ")),
})))`
