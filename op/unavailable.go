package op

import (
	"context"
	"encoding/json"
	"errors"

	"net/http"
	"strconv"
	"sync"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/storage"
)

// outage notes that the database failed while a request was served. The
// storage methods note it; the wrapper reads it once the library has
// answered, because zitadel/oidc rewraps some storage errors as the
// client's (a failed code lookup becomes invalid_grant, a failed client
// lookup invalid_client or invalid_request, a failed introspection
// "active": false), and the client would act on that: a relying party
// throws its code away, a resource server rejects a valid token.
type outage struct {
	mu    sync.Mutex
	cause error // the first failure, for the log
}

type outageKey struct{}

// withOutage returns a context in which storeError can note an outage.
func withOutage(ctx context.Context) (context.Context, *outage) {
	o := &outage{}
	return context.WithValue(ctx, outageKey{}, o), o
}

func (o *outage) note(err error) {
	o.mu.Lock()
	if o.cause == nil {
		o.cause = err
	}
	o.mu.Unlock()
}

// seen returns the failure noted, nil when there was none.
func (o *outage) seen() error {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cause
}

// storeError answers a storage failure: server_error with a fixed
// description (the cause kept as parent, never sent) and, when the database
// is unavailable, a note in the request so that the answer becomes 503
// temporarily_unavailable whatever the library makes of the error.
func storeError(ctx context.Context, err error) *oidc.Error {
	if errors.Is(err, storage.ErrUnavailable) {
		if o, _ := ctx.Value(outageKey{}).(*outage); o != nil {
			o.note(err)
		}
	}
	return serverError(err)
}

// isNotFound reports whether a lookup failed because the record is not
// there, the one lookup failure that is the client's.
func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// writeUnavailable answers a database outage: 503 with Retry-After, as
// temporarily_unavailable JSON on the API endpoints and as the "try again
// shortly" page on the browser ones.
func writeUnavailable(w http.ResponseWriter, browser *pageLang) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Retry-After", strconv.Itoa(int(storage.RetryAfter.Seconds())))
	h.Set("Cache-Control", "no-store")
	if browser != nil {
		browser.write(w, http.StatusServiceUnavailable, i18n.M("error.unavailable_heading"), i18n.M("error.unavailable"))
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable",
		"error_description": "the service is briefly unavailable; try again shortly"})
}
