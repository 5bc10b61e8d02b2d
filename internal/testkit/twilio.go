// Package testkit holds fakes of the outside world and helpers shared by
// tests: a fake Twilio REST API and an SMTP sink that the real twilio-go and
// SMTP clients talk to, so tests never mock our own code.
package testkit

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// FakeTwilio is an httptest.Server speaking enough of Twilio's REST API
// (Messages and Calls of API 2010-04-01) for twilio-go. Point
// sender.TwilioOptions.BaseURL at URL. It is safe for concurrent use.
type FakeTwilio struct {
	URL        string // base URL of the fake API
	AccountSID string // account the fake accepts, as basic-auth user and in the path
	AuthToken  string // auth token the fake accepts

	srv    *httptest.Server
	closed chan struct{}

	mu       sync.Mutex
	messages []TwilioMessage
	calls    []TwilioCall
	lastCode map[string]string // recipient -> code of the newest message or call
	keys     map[string]string // API key SID -> secret
	fail     int
	hang     time.Duration
}

// TwilioMessage is one SMS the fake accepted.
type TwilioMessage struct {
	To, From, MessagingServiceSID, Body, SID string
}

// TwilioCall is one voice call the fake accepted.
type TwilioCall struct {
	To, From, Twiml, SID string
}

// NewTwilio starts a fake Twilio API with random credentials; it is closed
// in t.Cleanup.
func NewTwilio(t testing.TB) *FakeTwilio {
	t.Helper()
	f := &FakeTwilio{
		AccountSID: "AC" + randomHex(16),
		AuthToken:  randomHex(16),
		closed:     make(chan struct{}),
		keys:       map[string]string{},
		lastCode:   map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", f.createMessage)
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Calls.json", f.createCall)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	f.srv = httptest.NewServer(f.middleware(mux))
	f.URL = f.srv.URL
	t.Cleanup(func() {
		close(f.closed) // releases hanging handlers so Close does not wait
		f.srv.Close()
	})
	return f
}

// AddAPIKey makes the fake also accept the API key sid and secret as
// basic-auth credentials for AccountSID, as Twilio does.
func (f *FakeTwilio) AddAPIKey(sid, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[sid] = secret
}

// Messages returns the SMS accepted so far, oldest first.
func (f *FakeTwilio) Messages() []TwilioMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]TwilioMessage(nil), f.messages...)
}

// Calls returns the calls accepted so far, oldest first.
func (f *FakeTwilio) Calls() []TwilioCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]TwilioCall(nil), f.calls...)
}

var (
	smsCode   = regexp.MustCompile(`#([0-9A-Za-z]+)\s*$`)
	firstRun  = regexp.MustCompile(`[0-9]{4,10}`)
	sayDigits = regexp.MustCompile(`(?:[0-9], )+[0-9]`)
)

// LastCode returns the code in the newest message or call to the number,
// or "" if there is none. For a text it reads the origin-bound last line
// ("@host #123456"), else the first run of 4–10 digits; for a call it joins
// the digits spoken in the TwiML.
func (f *FakeTwilio) LastCode(to string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastCode[to]
}

// messageCode extracts the code from an SMS body.
func messageCode(body string) string {
	if m := smsCode.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return firstRun.FindString(body)
}

// callCode extracts the digits spoken in TwiML ("1, 2, 3" → "123").
func callCode(twiml string) string {
	return strings.ReplaceAll(sayDigits.FindString(twiml), ", ", "")
}

// Fail makes every request answer with status and a Twilio-style JSON
// error until Reset.
func (f *FakeTwilio) Fail(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = status
}

// Hang holds every request for d, or until the client gives up or the
// server closes, before answering; until Reset.
func (f *FakeTwilio) Hang(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang = d
}

// Reset forgets recorded messages and calls and clears Fail and Hang.
func (f *FakeTwilio) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages, f.calls, f.fail, f.hang = nil, nil, 0, 0
	clear(f.lastCode)
}

// middleware applies Hang, Fail and authentication, in that order, like a
// slow or broken edge in front of the API.
func (f *FakeTwilio) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		hang, fail := f.hang, f.fail
		f.mu.Unlock()
		if hang > 0 {
			timer := time.NewTimer(hang)
			select {
			case <-timer.C:
			case <-r.Context().Done():
			case <-f.closed:
			}
			timer.Stop()
		}
		if fail != 0 {
			twilioError(w, fail, 20500, "An internal server error has occurred")
			return
		}
		if !f.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorized checks basic auth against the account's token or an API key;
// the handlers check that the path names the same account.
func (f *FakeTwilio) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	f.mu.Lock()
	want, isKey := f.keys[user]
	f.mu.Unlock()
	if !isKey {
		if user != f.AccountSID {
			return false
		}
		want = f.AuthToken
	}
	return subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1
}

func (f *FakeTwilio) createMessage(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sid") != f.AccountSID {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	m := TwilioMessage{
		To: r.PostFormValue("To"), From: r.PostFormValue("From"),
		MessagingServiceSID: r.PostFormValue("MessagingServiceSid"), Body: r.PostFormValue("Body"),
	}
	switch {
	case m.To == "":
		twilioError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case m.From == "" && m.MessagingServiceSID == "":
		twilioError(w, http.StatusBadRequest, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
		return
	case m.Body == "":
		twilioError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	}
	f.mu.Lock()
	m.SID = newSID("SM")
	f.messages = append(f.messages, m)
	f.lastCode[m.To] = messageCode(m.Body)
	f.mu.Unlock()

	now := time.Now().UTC().Format(time.RFC1123Z)
	writeJSON(w, http.StatusCreated, map[string]any{
		"account_sid": f.AccountSID, "api_version": "2010-04-01", "body": m.Body,
		"date_created": now, "date_updated": now, "date_sent": nil, "direction": "outbound-api",
		"error_code": nil, "error_message": nil, "from": nullable(m.From),
		"messaging_service_sid": nullable(m.MessagingServiceSID), "num_media": "0", "num_segments": "1",
		"price": nil, "price_unit": "USD", "sid": m.SID, "status": "queued", "to": m.To,
		"subresource_uris": map[string]string{"media": fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s/Media.json", f.AccountSID, m.SID)},
		"uri":              fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s.json", f.AccountSID, m.SID),
	})
}

func (f *FakeTwilio) createCall(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sid") != f.AccountSID {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	c := TwilioCall{To: r.PostFormValue("To"), From: r.PostFormValue("From"), Twiml: r.PostFormValue("Twiml")}
	switch {
	case c.To == "":
		twilioError(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
		return
	case c.From == "":
		twilioError(w, http.StatusBadRequest, 21213, "No 'From' number is specified")
		return
	case c.Twiml == "" && r.PostFormValue("Url") == "" && r.PostFormValue("ApplicationSid") == "":
		twilioError(w, http.StatusBadRequest, 21205, "Url, ApplicationSid or Twiml is required")
		return
	}
	f.mu.Lock()
	c.SID = newSID("CA")
	f.calls = append(f.calls, c)
	f.lastCode[c.To] = callCode(c.Twiml)
	f.mu.Unlock()

	now := time.Now().UTC().Format(time.RFC1123Z)
	writeJSON(w, http.StatusCreated, map[string]any{
		"account_sid": f.AccountSID, "api_version": "2010-04-01", "answered_by": nil,
		"caller_name": nil, "date_created": now, "date_updated": now, "direction": "outbound-api",
		"duration": nil, "end_time": nil, "forwarded_from": nil, "from": c.From, "from_formatted": c.From,
		"group_sid": nil, "parent_call_sid": nil, "phone_number_sid": nil, "price": nil, "price_unit": "USD",
		"queue_time": "0", "sid": c.SID, "start_time": nil, "status": "queued", "to": c.To, "to_formatted": c.To,
		"trunk_sid": nil, "uri": fmt.Sprintf("/2010-04-01/Accounts/%s/Calls/%s.json", f.AccountSID, c.SID),
	})
}

// newSID returns prefix + 32 hex digits, the shape of a Twilio SID.
func newSID(prefix string) string { return prefix + randomHex(16) }

// twilioError writes an error body in the shape Twilio uses and twilio-go
// decodes into client.TwilioRestError.
func twilioError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code": code, "message": message, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// nullable renders an empty string as JSON null, as Twilio does.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
