package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login/otp"
)

// A user whose application requires a second factor enrols an
// authenticator app through the real pages: the choice, the QR code page
// (the image is really there and decodes as a PNG), a code from the app,
// the recovery codes, and on to the application.
func TestBrowserTOTPEnrolment(t *testing.T) {
	b := newTab(t)
	s := testkit.NewServer(t, testkit.ServerOptions{})
	s.CreateUser(t, "carol", "carol's long password")
	client := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><p id="done">signed in</p>`)
	}))
	t.Cleanup(client.Close)
	b.closeBeforeServers()
	app := s.NewRP(t, testkit.ClientOptions{Name: "Payroll", RedirectURIs: []string{client.URL + "/cb"}})
	requireFactorFor(t, s, app.ID)

	sum := sha256.Sum256([]byte(keyring.RandomToken(32)))
	b.load("open the authorization URL", chromedp.Navigate(rp.AuthURL("st", app.Party, rp.WithCodeChallenge(base64.RawURLEncoding.EncodeToString(sum[:])))))
	b.signIn("carol", "carol's long password")
	b.wantPath(s.URL, "/login/enrol")
	wantContains(b, "enrolment choice", b.text("main"), "requires a second factor", "Authenticator app", "restricted authenticator")

	b.load("choose the authenticator app", chromedp.Click(chromedp.ID("enrol-totp")))
	b.wantPath(s.URL, "/login/enrol/totp")
	testkit.Screenshot(t, b.ctx, "totp-enrolment") // kept in $TWOFOLD_TEST_ARTIFACTS when set
	// The QR code is an image the browser decoded, with a text alternative.
	width, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelector("main img").naturalWidth`))
	if err != nil || width < 100 {
		b.fail("QR image not rendered: width %d, %v", width, err)
	}
	if alt := b.attr("main img", "alt"); !strings.Contains(alt, "QR code") {
		b.fail("QR image alt = %q", alt)
	}
	if got := b.attr("#code", "autocomplete"); got != "one-time-code" {
		b.fail("code field autocomplete = %q", got)
	}
	secret := strings.ReplaceAll(b.text("#secret"), " ", "")
	code, err := otp.TOTPCode(secret, s.Clock.Now())
	if err != nil {
		b.fail("secret %q: %v", secret, err)
	}
	b.do("type the app's code", chromedp.SendKeys(chromedp.ID("code"), code))
	b.load("turn the app on", chromedp.Click(chromedp.CSS(`form[action="/login/enrol/totp"] button`)))
	codes := strings.Fields(b.text("#recovery-codes"))
	if len(codes) != 10 {
		b.fail("%d recovery codes shown", len(codes))
	}
	if href := b.attr(`a[download]`, "href"); !strings.HasPrefix(href, "data:text/plain") || !strings.Contains(href, codes[0]) {
		b.fail("download link %.80q does not carry the codes", href)
	}
	b.load("continue", chromedp.Click(chromedp.ID("continue")))
	b.wantPath(client.URL, "/cb")
	if got := b.text("#done"); got != "signed in" {
		b.fail("client page = %q", got)
	}
}
