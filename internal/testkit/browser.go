package testkit

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserTimeout bounds a whole browser test, so a hung page fails the test
// instead of eating the CI job's time limit.
const browserTimeout = 60 * time.Second

// maxDumpHTML caps the HTML DumpPage logs; login pages are small, and a
// runaway page should not flood the test output.
const maxDumpHTML = 20 << 10

// Chromium starts a headless Chromium named by TWOFOLD_TEST_CHROMIUM and
// returns a chromedp context for one tab, cancelled when the test ends; it
// skips the test when the variable is unset.
func Chromium(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv("TWOFOLD_TEST_CHROMIUM")
	if path == "" {
		t.Skip("TWOFOLD_TEST_CHROMIUM not set; skipping browser test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where the sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers often have a tiny /dev/shm
		// Test servers use self-signed certificates (httptest, testkit.Server).
		// Chromium only ever talks to our own servers on loopback here, and
		// ignoring the errors also keeps the origin a secure context, so
		// Secure and __Host- cookies work as in production.
		chromedp.IgnoreCertErrors,
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Cleanups run last-in first-out: close the tab and browser, then the
	// allocator; t.TempDir's user-data dir is removed after Chromium exited.
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelBrowser)
	// Start the browser now so a broken binary fails here, not in the
	// first step of the test.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	// The deadline bounds the test's own steps only; the browser outlives
	// it so Screenshot and DumpPage still work after a step timed out.
	ctx, cancelTimeout := context.WithTimeout(browserCtx, browserTimeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// diagContext gives Screenshot and DumpPage a few seconds of their own,
// since they typically run after ctx has expired.
func diagContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// unsafeName matches characters we keep out of screenshot file names.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves a full-page PNG of the current page, to
// $TWOFOLD_TEST_ARTIFACTS when set (so CI can keep it) and to a test temp
// directory otherwise, and logs where it went.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir, note := os.Getenv("TWOFOLD_TEST_ARTIFACTS"), ""
	if dir == "" {
		dir, note = t.TempDir(), " (removed after the test; set TWOFOLD_TEST_ARTIFACTS to keep it)"
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	file := unsafeName.ReplaceAllString(t.Name()+"-"+name, "_") + ".png"
	path := filepath.Join(dir, file)
	ctx, cancel := diagContext(ctx)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 means PNG
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot %s: %s%s", name, path, note)
}

// DumpPage logs the current URL and the page's HTML, truncated, so a
// failing browser step shows what the browser actually had in front of it.
func DumpPage(t testing.TB, ctx context.Context) {
	t.Helper()
	ctx, cancel := diagContext(ctx)
	defer cancel()
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Logf("dump page: %v", err)
		return
	}
	// Evaluate rather than an element query, which would wait for an
	// element that a half-loaded page may never get.
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML"))
	if err != nil {
		t.Logf("dump page %s: %v", url, err)
		return
	}
	if len(html) > maxDumpHTML {
		html = html[:maxDumpHTML] + "\n… (truncated)"
	}
	t.Logf("page %s:\n%s", url, html)
}
