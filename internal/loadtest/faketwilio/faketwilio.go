// Package faketwilio is a fake of Twilio's REST API (Messages and Calls of
// API 2010-04-01), enough for the real twilio-go client. It belongs to the
// load driver: `twofold bench` runs one so that its sign-ins can read their
// SMS codes, which is why it sits under internal/loadtest and is linked into
// the binary. The tests reach it through testkit.NewTwilio (testkit imports
// this leaf, never the other way). It imports no test packages and nothing
// of ours.
package faketwilio

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// history is how many messages and calls a Server remembers: enough for any
// test, bounded for a long load run. LastCode is kept per recipient.
const history = 4096

// Server is an HTTP server speaking enough of Twilio's REST API
// (Messages and Calls of API 2010-04-01) for twilio-go. Point
// sender.TwilioOptions.BaseURL at URL. It is safe for concurrent use.
type Server struct {
	URL        string // base URL of the fake API
	AccountSID string // account the fake accepts, as basic-auth user and in the path
	AuthToken  string // auth token the fake accepts

	srv       *http.Server
	closed    chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	messages []Message
	calls    []Call
	lastCode map[string]string // recipient -> code of the newest message or call
	keys     map[string]string // API key SID -> secret
	fail     int
	hang     time.Duration
}

// Message is one SMS the fake accepted.
type Message struct {
	To, From, MessagingServiceSID, Body, SID string
}

// Call is one voice call the fake accepted.
type Call struct {
	To, From, Twiml, SID string
}

// New starts a fake Twilio API with random credentials on addr (host:port;
// port 0 picks a free one). Close stops it.
func New(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fake Twilio: %w", err)
	}
	f := &Server{
		AccountSID: "AC" + randomHex(16),
		AuthToken:  randomHex(16),
		URL:        "http://" + ln.Addr().String(),
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
	f.srv = &http.Server{Handler: f.middleware(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }() // returns ErrServerClosed at Close
	return f, nil
}

// Close releases hanging handlers and stops the server.
func (f *Server) Close() {
	f.closeOnce.Do(func() {
		close(f.closed)
		f.srv.Close()
	})
}

// AddAPIKey makes the fake also accept the API key sid and secret as
// basic-auth credentials for AccountSID, as Twilio does.
func (f *Server) AddAPIKey(sid, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[sid] = secret
}

// Messages returns the SMS accepted so far, oldest first.
func (f *Server) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.messages...)
}

// Calls returns the calls accepted so far, oldest first.
func (f *Server) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
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
func (f *Server) LastCode(to string) string {
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
func (f *Server) Fail(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = status
}

// Hang holds every request for d, or until the client gives up or the
// server closes, before answering; until Reset.
func (f *Server) Hang(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang = d
}

// Reset forgets recorded messages and calls and clears Fail and Hang.
func (f *Server) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages, f.calls, f.fail, f.hang = nil, nil, 0, 0
	clear(f.lastCode)
}

// middleware applies Hang, Fail and authentication, in that order, like a
// slow or broken edge in front of the API.
func (f *Server) middleware(next http.Handler) http.Handler {
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
func (f *Server) authorized(r *http.Request) bool {
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

func (f *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sid") != f.AccountSID {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	m := Message{
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
	f.messages = appendBounded(f.messages, m)
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

func (f *Server) createCall(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sid") != f.AccountSID {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	c := Call{To: r.PostFormValue("To"), From: r.PostFormValue("From"), Twiml: r.PostFormValue("Twiml")}
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
	f.calls = appendBounded(f.calls, c)
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

// appendBounded appends v and drops the oldest entries beyond history.
func appendBounded[T any](s []T, v T) []T {
	s = append(s, v)
	if len(s) > history {
		s = append(s[:0:0], s[len(s)-history:]...)
	}
	return s
}
