package loadtest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/twofold-id/twofold/keyring"
)

// newTransport is shared by every worker: enough idle connections for the
// highest concurrency, so runs measure the server, not TCP handshakes.
func newTransport(conns int, insecure bool) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 4,
		MaxIdleConnsPerHost: conns * 4,
		IdleConnTimeout:     90 * time.Second,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // opt-in, for self-signed test servers
		ForceAttemptHTTP2:   false,
	}
}

// browser is one user agent: its cookies are kept by name only, so a flow
// may hop between replicas of one issuer on different ports, as behind a
// balancer.
type browser struct {
	http    *http.Client
	mu      sync.Mutex
	cookies map[string]string
}

func newBrowser(t http.RoundTripper) *browser {
	b := &browser{cookies: map[string]string{}}
	b.http = &http.Client{Transport: t, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return b
}

// response is a read HTTP response.
type response struct {
	status   int
	location string
	body     string
}

// do sends a request with the browser's cookies and keeps the ones set.
func (b *browser) do(ctx context.Context, method, u string, form url.Values, header http.Header) (*response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	b.mu.Lock()
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	b.mu.Unlock()
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	b.mu.Unlock()
	return &response{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(data)}, nil
}

// expect fails unless the response has the status.
func (r *response) expect(step string, status int) error {
	if r.status == status {
		return nil
	}
	snippet := r.body
	if len(snippet) > 200 {
		snippet = snippet[:200]
	}
	return fmt.Errorf("%s: status %d (want %d), location %q: %s", step, r.status, status, r.location, strings.TrimSpace(snippet))
}

var hiddenRE = regexp.MustCompile(`name="([A-Za-z]+)" value="([^"]*)"`)

// field returns the value of a named hidden input of the page.
func (r *response) field(name string) string {
	for _, m := range hiddenRE.FindAllStringSubmatch(r.body, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	return ""
}

// onTarget rewrites an absolute or relative URL of the provider onto base,
// keeping path and query: every replica serves every step.
func onTarget(base, loc string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(base, "/") + u.RequestURI(), nil
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = keyring.RandomToken(32)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// tokenResponse is the part of a token endpoint answer the driver checks.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
}

// postToken calls the token endpoint with client_secret_basic.
func postToken(ctx context.Context, hc *http.Client, base, clientID, secret string, form url.Values) (*tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return nil, fmt.Errorf("token %s: status %d: %w", form.Get("grant_type"), resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		return nil, fmt.Errorf("token %s: status %d, error %q", form.Get("grant_type"), resp.StatusCode, tr.Error)
	}
	return &tr, nil
}

// get fetches a URL and checks for 200.
func get(ctx context.Context, hc *http.Client, u string, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return nil
}

var errNoCode = errors.New("no SMS code reached the fake Twilio")
