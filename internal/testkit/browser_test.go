package testkit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// formPage is a minimal stand-in for a login form: one input, no
// JavaScript, posting back to the same server.
const formPage = `<!doctype html>
<html><body>
<form method="post" action="/submit">
  <label>Code <input id="code" name="code" autocomplete="one-time-code"></label>
  <button id="go" type="submit">Verify</button>
</form>
</body></html>`

func TestChromiumSubmitsForm(t *testing.T) {
	ctx := Chromium(t)

	got := make(chan string, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, formPage)
	})
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		got <- r.PostFormValue("code")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><p id="done">thanks</p>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.SendKeys(chromedp.ID("code"), "123456"),
	)
	if err == nil {
		// RunResponse waits for the navigation the submit starts.
		_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("go")))
	}
	var text string
	if err == nil {
		text, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("done")))
	}
	if err != nil {
		DumpPage(t, ctx)
		Screenshot(t, ctx, "submit-failed")
		t.Fatalf("submit form: %v", err)
	}
	select {
	case v := <-got:
		if v != "123456" {
			t.Errorf("server received code %q, want %q", v, "123456")
		}
	default:
		t.Fatal("server never received the form post")
	}
	if text != "thanks" {
		t.Errorf("result page text = %q, want %q", text, "thanks")
	}
	Screenshot(t, ctx, "submitted")
	DumpPage(t, ctx)
}
