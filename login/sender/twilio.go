package sender

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/i18n"
)

// DefaultTwilioBaseURL is where the Twilio REST API lives unless
// TwilioOptions.BaseURL says otherwise.
const DefaultTwilioBaseURL = "https://api.twilio.com"

// DefaultTimeout bounds one send when the options leave Timeout at zero.
const DefaultTimeout = 10 * time.Second

// TwilioOptions configures the Twilio SMS and voice senders. Credentials
// are always explicit: twilio-go would otherwise read TWILIO_* variables
// from the environment behind our back.
type TwilioOptions struct {
	AccountSID          string // the account the messages are billed to ("AC…")
	AuthToken           string // the account's auth token; unused when APIKey is set
	APIKey              string // an API key SID ("SK…"), preferred over AuthToken
	APISecret           string // the API key's secret
	From                string // sending phone number (E.164) or alphanumeric sender id
	MessagingServiceSID string // messaging service ("MG…") to send SMS through instead of From
	BaseURL             string // API base URL, default DefaultTwilioBaseURL; for regional edges and tests
	Timeout             time.Duration
	HTTPClient          *http.Client // optional; copied, never modified
}

// twilioConn holds what both Twilio senders need to build a client per send.
type twilioConn struct {
	accountSID string
	user, pass string
	target     *url.URL // BaseURL
	http       http.Client
}

func newTwilioConn(o TwilioOptions) (*twilioConn, error) {
	var errs []error
	if o.AccountSID == "" {
		errs = append(errs, errors.New("twilio: account SID is required"))
	}
	user, pass := o.AccountSID, o.AuthToken
	if o.APIKey != "" {
		user, pass = o.APIKey, o.APISecret
	}
	if pass == "" {
		errs = append(errs, errors.New("twilio: auth token (or API key secret) is required"))
	}
	base := o.BaseURL
	if base == "" {
		base = DefaultTwilioBaseURL
	}
	target, err := url.Parse(base)
	if err != nil || (target.Scheme != "https" && target.Scheme != "http") || target.Host == "" ||
		target.RawQuery != "" || target.Fragment != "" {
		errs = append(errs, fmt.Errorf("twilio: base URL %q must be an http(s) URL without query", base))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("twilio: negative timeout %v", o.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	c := &twilioConn{accountSID: o.AccountSID, user: user, pass: pass}
	if o.HTTPClient != nil {
		c.http = *o.HTTPClient
	} else {
		// Like twilio-go's default client: a 3xx is an answer, not a hop.
		c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	c.http.Timeout = o.Timeout
	if c.http.Timeout == 0 {
		c.http.Timeout = DefaultTimeout
	}
	if c.http.Transport == nil {
		c.http.Transport = http.DefaultTransport
	}
	c.target = target
	return c, nil
}

// api returns a Twilio API client whose requests are bounded by ctx.
// twilio-go builds its requests with context.Background(), so the context
// travels in the transport; a client per send is a few allocations.
func (c *twilioConn) api(ctx context.Context) *api.ApiService {
	hc := c.http
	hc.Transport = &ctxTransport{ctx: ctx, next: c.http.Transport}
	cl := &client.Client{Credentials: client.NewCredentials(c.user, c.pass), HTTPClient: &hc}
	cl.SetAccountSid(c.accountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: &rebasedClient{Client: cl, target: c.target}})
	// NewRequestHandler read TWILIO_EDGE and TWILIO_REGION; BaseURL decides.
	rc.SetEdge("")
	rc.SetRegion("")
	return rc.Api
}

// timeout returns the bound for one send.
func (c *twilioConn) timeout() time.Duration { return c.http.Timeout }

// twilioError turns a failed API call into an error that names the Twilio
// status and error code but never the code or message body.
func twilioError(op string, err error, secrets ...string) error {
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		msg := te.Message
		for _, s := range secrets {
			if s != "" {
				msg = strings.ReplaceAll(msg, s, "[redacted]")
			}
		}
		return fmt.Errorf("%s: status %d, error %d: %s (%s)", op, te.Status, te.Code, msg, te.MoreInfo)
	}
	return redact(op, err, secrets...)
}

// rebasedClient sends every request to the configured base URL, keeping
// the path twilio-go built. twilio-go hard-codes https://api.twilio.com in
// each service (and derives edge hosts from it); client.BaseClient is its
// hook for a custom client, and rewriting there keeps the real URL in
// network errors.
type rebasedClient struct {
	*client.Client
	target *url.URL
}

func (c *rebasedClient) SendRequest(method, rawURL string, data url.Values,
	headers map[string]any, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = c.target.Scheme, c.target.Host
	if prefix := strings.TrimSuffix(c.target.Path, "/"); prefix != "" {
		u.Path, u.RawPath = prefix+u.Path, ""
	}
	return c.Client.SendRequest(method, u.String(), data, headers, body...)
}

// ctxTransport makes a request also end when ctx ends, in addition to the
// http.Client's own deadline that is already in the request's context.
type ctxTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rctx, cancel := context.WithCancelCause(req.Context())
	// The caller of Send always cancels ctx when Send returns, after the
	// body was read, which also releases rctx.
	context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	return t.next.RoundTrip(req.WithContext(rctx))
}

// TwilioSMS sends codes as text messages through Twilio's Messages API.
type TwilioSMS struct {
	conn                *twilioConn
	from, messagingServ string
}

// NewTwilioSMS returns an SMS sender; exactly one of From and
// MessagingServiceSID must be set.
func NewTwilioSMS(opts TwilioOptions) (*TwilioSMS, error) {
	if (opts.From == "") == (opts.MessagingServiceSID == "") {
		return nil, errors.New("twilio sms: set exactly one of from and messaging service SID")
	}
	conn, err := newTwilioConn(opts)
	if err != nil {
		return nil, err
	}
	return &TwilioSMS{conn: conn, from: opts.From, messagingServ: opts.MessagingServiceSID}, nil
}

// Send texts the code and returns the message SID.
func (s *TwilioSMS) Send(ctx context.Context, m Message) (string, error) {
	if err := m.validate(SMS); err != nil {
		return "", fmt.Errorf("twilio sms: %w", err)
	}
	body, err := smsBody(m)
	if err != nil {
		return "", fmt.Errorf("twilio sms: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.conn.timeout())
	defer cancel()

	p := &api.CreateMessageParams{}
	p.SetTo(m.To).SetBody(body)
	if s.messagingServ != "" {
		p.SetMessagingServiceSid(s.messagingServ)
	} else {
		p.SetFrom(s.from)
	}
	res, err := s.conn.api(ctx).CreateMessage(p)
	if err != nil {
		return "", twilioError("twilio sms", err, body, m.Code)
	}
	if res.Sid == nil {
		return "", errors.New("twilio sms: response has no sid")
	}
	return *res.Sid, nil
}

// smsBody renders the text; its last line is the origin-bound one-time-code
// format, so browsers autofill the code only on the issuer's origin.
func smsBody(m Message) (string, error) {
	host, err := issuerHost(m.Issuer)
	if err != nil {
		return "", err
	}
	id := "sms.sign_in"
	if m.verify() {
		id = "sms.verify"
	}
	text := m.say(id, "AppName", m.appName(), "Code", m.Code, "TTL", humanDuration(m.TTL))
	return fmt.Sprintf("%s\n\n@%s #%s", text, host, m.Code), nil
}

// TwilioVoice reads codes aloud in a phone call through Twilio's Calls API.
type TwilioVoice struct {
	conn *twilioConn
	from string
}

// NewTwilioVoice returns a voice sender; From must be a phone number that
// can place calls.
func NewTwilioVoice(opts TwilioOptions) (*TwilioVoice, error) {
	if opts.From == "" {
		return nil, errors.New("twilio voice: from phone number is required")
	}
	conn, err := newTwilioConn(opts)
	if err != nil {
		return nil, err
	}
	return &TwilioVoice{conn: conn, from: opts.From}, nil
}

// Send places the call and returns the call SID.
func (s *TwilioVoice) Send(ctx context.Context, m Message) (string, error) {
	if err := m.validate(Voice); err != nil {
		return "", fmt.Errorf("twilio voice: %w", err)
	}
	twiml := voiceTwiML(m)
	ctx, cancel := context.WithTimeout(ctx, s.conn.timeout())
	defer cancel()

	p := &api.CreateCallParams{}
	p.SetTo(m.To).SetFrom(s.from).SetTwiml(twiml)
	res, err := s.conn.api(ctx).CreateCall(p)
	if err != nil {
		return "", twilioError("twilio voice", err, twiml, m.Code)
	}
	if res.Sid == nil {
		return "", errors.New("twilio voice: response has no sid")
	}
	return *res.Sid, nil
}

// voiceTwiML says the code digit by digit ("1, 2, 3"), twice, so it can be
// written down on the second pass, in the message's language where
// Twilio's voices speak it (voiceLanguage), in English otherwise.
func voiceTwiML(m Message) string {
	chars := strings.Split(m.Code, "")
	spoken := strings.Join(chars, ", ")
	say, ok := voiceLanguage(m.Lang)
	if !ok {
		m.Lang = i18n.Source
	}
	id := "voice.intro_sign_in"
	if m.verify() {
		id = "voice.intro_verify"
	}
	intro := m.say(id, "AppName", m.appName(), "Digits", spoken)
	again := m.say("voice.again", "Digits", spoken, "TTL", humanDuration(m.TTL))

	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="1"/><Say language="` + say + `">`)
	xml.EscapeText(&b, []byte(intro)) //nolint:errcheck // strings.Builder never fails
	b.WriteString(`</Say><Pause length="1"/><Say language="` + say + `">`)
	xml.EscapeText(&b, []byte(again)) //nolint:errcheck // strings.Builder never fails
	b.WriteString(`</Say></Response>`)
	return b.String()
}

// twilioVoices are the <Say> languages of Twilio's standard voices, by
// base language, with the region spoken when the tag names none of them.
var twilioVoices = map[string][]string{
	"en": {"en-US", "en-GB", "en-AU", "en-CA", "en-IN"},
	"de": {"de-DE"},
	"fr": {"fr-FR", "fr-CA"},
	"es": {"es-ES", "es-MX"},
	"it": {"it-IT"}, "nl": {"nl-NL"}, "pt": {"pt-BR", "pt-PT"}, "da": {"da-DK"}, "fi": {"fi-FI"},
	"nb": {"nb-NO"}, "pl": {"pl-PL"}, "ru": {"ru-RU"}, "sv": {"sv-SE"}, "ja": {"ja-JP"}, "ko": {"ko-KR"},
	"zh": {"zh-CN", "zh-HK", "zh-TW"}, "ca": {"ca-ES"},
}

// voiceLanguage is the <Say language> that speaks tag: its region's voice
// where Twilio has one, else the language's first; false when Twilio's
// voices do not speak the language at all.
func voiceLanguage(tag language.Tag) (string, bool) {
	base, _ := tag.Base()
	voices, ok := twilioVoices[base.String()]
	if !ok || tag == (language.Tag{}) {
		return "en-US", false
	}
	if region, conf := tag.Region(); conf == language.Exact {
		for _, v := range voices {
			if strings.HasSuffix(v, "-"+region.String()) {
				return v, true
			}
		}
	}
	return voices[0], true
}
