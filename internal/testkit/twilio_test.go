package testkit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testkit"
)

// post sends a form to the fake the way twilio-go does.
func post(t *testing.T, f *testkit.FakeTwilio, user, pass, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	status, body, err := tryPost(f, user, pass, path, form)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// tryPost is post for goroutines, which must not call t.Fatal.
func tryPost(f *testkit.FakeTwilio, user, pass, path string, form url.Values) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, f.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return 0, nil, fmt.Errorf("response is not JSON: %w", err)
	}
	return res.StatusCode, body, nil
}

func messagesPath(f *testkit.FakeTwilio) string {
	return "/2010-04-01/Accounts/" + f.AccountSID + "/Messages.json"
}

func TestFakeTwilioMessage(t *testing.T) {
	f := testkit.NewTwilio(t)
	status, body := post(t, f, f.AccountSID, f.AuthToken, messagesPath(f), url.Values{
		"To": {"+15550001111"}, "From": {"+15550002222"},
		"Body": {"Your twofold code is 123456. It expires in 5 minutes.\n\n@id.example.com:8443 #123456"},
	})
	if status != http.StatusCreated {
		t.Fatalf("status = %d, body %v", status, body)
	}
	sid, _ := body["sid"].(string)
	if !strings.HasPrefix(sid, "SM") || len(sid) != 34 {
		t.Errorf("sid = %q, want SM + 32 hex", sid)
	}
	if body["status"] != "queued" || body["to"] != "+15550001111" || body["account_sid"] != f.AccountSID {
		t.Errorf("resource = %v", body)
	}
	msgs := f.Messages()
	if len(msgs) != 1 || msgs[0].SID != sid || msgs[0].From != "+15550002222" || msgs[0].MessagingServiceSID != "" {
		t.Fatalf("Messages() = %+v", msgs)
	}
	if got := f.LastCode("+15550001111"); got != "123456" {
		t.Errorf("LastCode = %q, want 123456", got)
	}
	if got := f.LastCode("+15559999999"); got != "" {
		t.Errorf("LastCode of another number = %q, want empty", got)
	}
}

func TestFakeTwilioCall(t *testing.T) {
	f := testkit.NewTwilio(t)
	twiml := `<Response><Say>Your code is: 9, 8, 7, 6, 5, 4.</Say><Say>Again: 9, 8, 7, 6, 5, 4.</Say></Response>`
	status, body := post(t, f, f.AccountSID, f.AuthToken, "/2010-04-01/Accounts/"+f.AccountSID+"/Calls.json",
		url.Values{"To": {"+15550001111"}, "From": {"+15550002222"}, "Twiml": {twiml}})
	if status != http.StatusCreated || !strings.HasPrefix(body["sid"].(string), "CA") {
		t.Fatalf("status %d, body %v", status, body)
	}
	if calls := f.Calls(); len(calls) != 1 || calls[0].Twiml != twiml {
		t.Fatalf("Calls() = %+v", calls)
	}
	if got := f.LastCode("+15550001111"); got != "987654" {
		t.Errorf("LastCode = %q, want 987654", got)
	}
}

func TestFakeTwilioAuth(t *testing.T) {
	f := testkit.NewTwilio(t)
	form := url.Values{"To": {"+15550001111"}, "From": {"+15550002222"}, "Body": {"x 123456"}}
	tests := []struct {
		name, user, pass, path string
		want                   int
	}{
		{"wrong token", f.AccountSID, "wrong", messagesPath(f), http.StatusUnauthorized},
		{"wrong account", "ACother", f.AuthToken, messagesPath(f), http.StatusUnauthorized},
		{"other account in path", f.AccountSID, f.AuthToken, "/2010-04-01/Accounts/ACother/Messages.json", http.StatusUnauthorized},
		{"api key", "SKkey", "keysecret", messagesPath(f), http.StatusCreated},
		{"api key wrong secret", "SKkey", "nope", messagesPath(f), http.StatusUnauthorized},
		{"unknown path", f.AccountSID, f.AuthToken, "/2010-04-01/Accounts/" + f.AccountSID + "/Nope.json", http.StatusNotFound},
	}
	f.AddAPIKey("SKkey", "keysecret")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, f, tt.user, tt.pass, tt.path, form)
			if status != tt.want {
				t.Fatalf("status = %d, want %d (%v)", status, tt.want, body)
			}
			if status == http.StatusUnauthorized && body["code"] != float64(20003) {
				t.Errorf("error body = %v, want Twilio code 20003", body)
			}
		})
	}
	if n := len(f.Messages()); n != 1 {
		t.Errorf("recorded %d messages, want only the authorised one", n)
	}
}

func TestFakeTwilioFailAndReset(t *testing.T) {
	f := testkit.NewTwilio(t)
	form := url.Values{"To": {"+15550001111"}, "From": {"+15550002222"}, "Body": {"code 123456"}}
	f.Fail(http.StatusServiceUnavailable)
	status, body := post(t, f, f.AccountSID, f.AuthToken, messagesPath(f), form)
	if status != http.StatusServiceUnavailable || body["status"] != float64(503) || body["code"] == nil {
		t.Fatalf("status %d, body %v", status, body)
	}
	if len(f.Messages()) != 0 {
		t.Fatal("a failed request was recorded")
	}
	f.Reset()
	if status, _ := post(t, f, f.AccountSID, f.AuthToken, messagesPath(f), form); status != http.StatusCreated {
		t.Fatalf("after Reset: status %d", status)
	}
	f.Reset()
	if len(f.Messages()) != 0 || f.LastCode("+15550001111") != "" {
		t.Fatal("Reset kept messages")
	}
}

func TestFakeTwilioHang(t *testing.T) {
	// A client with a short timeout gives up.
	f := testkit.NewTwilio(t)
	f.Hang(time.Minute)
	c := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := c.PostForm(f.URL+messagesPath(f), url.Values{})
	if err == nil {
		t.Fatal("request to a hanging fake succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("client gave up after %v", d)
	}

	// A request still in flight does not hold up the fake's cleanup.
	done := make(chan struct{})
	start = time.Now()
	t.Run("cleanup", func(t *testing.T) {
		g := testkit.NewTwilio(t)
		g.Hang(time.Minute)
		go func() {
			defer close(done)
			res, err := http.PostForm(g.URL+messagesPath(g), url.Values{})
			if err == nil {
				res.Body.Close()
			}
		}()
		time.Sleep(50 * time.Millisecond) // let the request reach the handler
	})
	<-done
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cleanup of a hanging fake took %v", d)
	}
}

func TestFakeTwilioConcurrent(t *testing.T) {
	f := testkit.NewTwilio(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			status, _, err := tryPost(f, f.AccountSID, f.AuthToken, messagesPath(f),
				url.Values{"To": {"+15550001111"}, "MessagingServiceSid": {"MGxyz"}, "Body": {"code 123456"}})
			if err != nil || status != http.StatusCreated {
				t.Errorf("status %d, err %v", status, err)
			}
			_ = f.Messages()
		})
	}
	wg.Wait()
	if n := len(f.Messages()); n != 20 {
		t.Fatalf("recorded %d messages, want 20", n)
	}
}
