package op

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/storage"
)

// OpenID Connect Back-Channel Logout 1.0: the storage queues one delivery
// per client when a session ends (in the transaction that ends it); this
// worker sends each as a signed logout token, retries with backoff and
// audits the outcome. It runs on every replica; a conditional claim makes
// sure that one of them, and only one, sends each attempt.

// BackchannelEvent is the event a logout token carries.
const BackchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// Delivery tuning.
const (
	// BackchannelMaxAttempts is how many times a token is sent before the
	// delivery is given up (and audited as failed).
	BackchannelMaxAttempts = 6
	backchannelBatch       = 100
	backchannelParallel    = 8
	backchannelTimeout     = 5 * time.Second
	logoutTokenTTL         = 2 * time.Minute
)

// backchannelBackoff is the wait after each attempt; the claim moves the
// next attempt this far ahead before sending, so a replica that dies
// mid-send leaves the row due again later, and the wait always exceeds the
// send timeout, so no other replica reclaims a row still being sent.
var backchannelBackoff = []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour}

// BackchannelRetryAfter is the wait after the given attempt (1-based).
func BackchannelRetryAfter(attempt int) time.Duration {
	return backchannelBackoff[min(max(attempt, 1), len(backchannelBackoff))-1]
}

// logoutStore is what the worker needs from storage.
type logoutStore interface {
	Client(ctx context.Context, id string) (*storage.Client, error)
	DueLogoutDeliveries(ctx context.Context, now time.Time, limit int) ([]storage.LogoutDelivery, error)
	ClaimLogoutDelivery(ctx context.Context, id string, seenAttempts int, now, retryAt time.Time) error
	FinishLogoutDelivery(ctx context.Context, id string, attempt int, lastError string, giveUp bool, now time.Time) error
	Audit(ctx context.Context, e *storage.AuditEvent) error
}

// Backchannel delivers queued back-channel logout tokens.
type Backchannel struct {
	store  logoutStore
	keys   *Keys
	issuer string
	http   *http.Client
	now    func() time.Time
	log    *slog.Logger
}

// NewBackchannel returns the delivery worker. httpClient may be nil; its
// redirects are never followed (a 3xx is a failed attempt).
func NewBackchannel(store logoutStore, keys *Keys, issuer string, httpClient *http.Client, now func() time.Time, log *slog.Logger) *Backchannel {
	c := http.Client{}
	if httpClient != nil {
		c = *httpClient
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Backchannel{store: store, keys: keys, issuer: issuer, http: &c, now: now, log: log}
}

// RunOnce sends the deliveries due now, at most a batch, several at a time.
// delivered counts tokens the clients accepted, failed the attempts that
// failed (retried later or given up); rows another replica claimed first
// count in neither.
func (b *Backchannel) RunOnce(ctx context.Context) (delivered, failed int, err error) {
	due, err := b.store.DueLogoutDeliveries(ctx, b.now(), backchannelBatch)
	if err != nil {
		return 0, 0, err
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		sem  = make(chan struct{}, backchannelParallel)
	)
	for _, d := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res, err := b.attempt(ctx, d)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case res == accepted:
				delivered++
			case res == refused:
				failed++
			}
		})
	}
	wg.Wait()
	return delivered, failed, errors.Join(errs...)
}

// outcome is the result of one delivery attempt.
type outcome int

const (
	claimLost outcome = iota // another replica took the row first
	accepted                 // the client answered 2xx
	refused                  // anything else: retried later, or given up
)

// attempt claims one delivery and sends it.
func (b *Backchannel) attempt(ctx context.Context, d storage.LogoutDelivery) (outcome, error) {
	now := b.now()
	attempt := d.Attempts + 1
	err := b.store.ClaimLogoutDelivery(ctx, d.ID, d.Attempts, now, now.Add(BackchannelRetryAfter(attempt)))
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return claimLost, nil
	} else if err != nil {
		return claimLost, fmt.Errorf("claim logout delivery %s: %w", d.ID, err)
	}
	// Past the last attempt only when a replica died after claiming it.
	sendErr := errors.New("abandoned after an interrupted attempt")
	if attempt <= BackchannelMaxAttempts {
		sendErr = b.send(ctx, d)
	}
	res, lastError := accepted, ""
	if sendErr != nil {
		res, lastError = refused, truncate(sendErr.Error(), 500)
	}
	giveUp := res == refused && attempt >= BackchannelMaxAttempts
	if err := b.store.FinishLogoutDelivery(ctx, d.ID, attempt, lastError, giveUp, b.now()); err != nil {
		return claimLost, fmt.Errorf("record logout delivery %s: %w", d.ID, err)
	}
	b.audit(ctx, d, attempt, lastError, giveUp)
	return res, nil
}

// send posts the logout token to the client's back-channel URI.
func (b *Backchannel) send(ctx context.Context, d storage.LogoutDelivery) error {
	client, err := b.store.Client(ctx, d.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return errors.New("the client no longer exists")
	} else if err != nil {
		return fmt.Errorf("load client: %w", err)
	}
	if client.BackchannelLogoutURI == "" {
		return errors.New("the client no longer has a back-channel logout URI")
	}
	token, err := b.LogoutToken(ctx, client, d.UserID, d.SessionID)
	if err != nil {
		return fmt.Errorf("sign logout token: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, backchannelTimeout)
	defer cancel()
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, client.BackchannelLogoutURI, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("bad back-channel logout URI: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// LogoutToken signs a logout token for one client and session: the claims
// of Back-Channel Logout 1.0 section 2.4 (no nonce), typ logout+jwt, with
// the provider's active signing key of the client's algorithm.
func (b *Backchannel) LogoutToken(ctx context.Context, client *storage.Client, userID, sessionID string) (string, error) {
	clientID := client.ID
	key, err := b.keys.SigningKeyFor(ctx, client.IDTokenSignedResponseAlg)
	if err != nil {
		return "", err
	}
	now := b.now()
	claims := &oidc.LogoutTokenClaims{
		Issuer: b.issuer, Subject: userID, Audience: oidc.Audience{clientID},
		IssuedAt: oidc.FromTime(now), Expiration: oidc.FromTime(now.Add(logoutTokenTTL)),
		JWTID: rand.Text(), SessionID: sessionID,
		Events: map[string]any{BackchannelEvent: struct{}{}},
	}
	return signLogoutToken(key, claims)
}

func signLogoutToken(key zop.SigningKey, claims *oidc.LogoutTokenClaims) (string, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: &jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// audit records one attempt's outcome; a failure also goes to the log.
func (b *Backchannel) audit(ctx context.Context, d storage.LogoutDelivery, attempt int, lastError string, giveUp bool) {
	e := &storage.AuditEvent{CreatedAt: b.now(), Type: "backchannel_logout_delivered", Actor: "system",
		UserID: d.UserID, ClientID: d.ClientID, Outcome: "ok", Detail: fmt.Sprintf("attempt %d", attempt)}
	if lastError != "" {
		e.Type, e.Outcome = "backchannel_logout_failed", "retrying"
		if giveUp {
			e.Outcome = "gave up"
		}
		e.Detail = fmt.Sprintf("attempt %d of %d: %s", attempt, BackchannelMaxAttempts, lastError)
		b.log.WarnContext(ctx, "back-channel logout failed", "client", d.ClientID, "delivery", d.ID,
			"attempt", attempt, "gave_up", giveUp, "err", lastError)
	}
	if err := b.store.Audit(ctx, e); err != nil {
		b.log.ErrorContext(ctx, "audit write failed", "type", e.Type, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// sessionIDOf returns the record id of the SSO session an ID token is
// issued under; its public sid goes in the sid claim, the same value the
// logout token carries, so that the client can match the two.
func sessionIDOf(req zop.IDTokenRequest) string {
	switch r := req.(type) {
	case *authRequest:
		return r.rec.SessionID
	case *refreshRequest:
		return r.rec.SessionID
	}
	return ""
}
