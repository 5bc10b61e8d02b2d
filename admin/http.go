package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// Prefix is where the API lives.
const Prefix = "/admin/api/v1"

// MaxBody bounds request bodies.
const MaxBody = 64 << 10

// handler is an API handler: it returns an *Error for the caller's
// mistakes and any other error for internal failures.
type handler func(w http.ResponseWriter, r *http.Request, actor Actor) error

// route is one endpoint; path is relative to Prefix.
type route struct {
	method, path string
	h            handler
}

// routes is every authenticated endpoint. The OpenAPI document must list
// exactly these (a test checks).
func (a *Admin) routes() []route {
	return []route{
		{"GET", "/clients", a.listClients},
		{"POST", "/clients", a.createClient},
		{"GET", "/clients/{id}", a.getClient},
		{"PATCH", "/clients/{id}", a.patchClient},
		{"DELETE", "/clients/{id}", a.deleteClient},
		{"POST", "/clients/{id}/rotate-secret", a.rotateSecret},
		{"GET", "/users", a.listUsers},
		{"POST", "/users", a.createUser},
		{"GET", "/users/{id}", a.getUser},
		{"PATCH", "/users/{id}", a.patchUser},
		{"DELETE", "/users/{id}", a.deleteUser},
		{"POST", "/users/{id}/password", a.setPassword},
		{"PUT", "/users/{id}/second-factors", a.setSecondFactors},
		{"POST", "/users/{id}/enable", a.enableUser},
		{"POST", "/users/{id}/disable", a.disableUser},
		{"POST", "/users/{id}/reset-second-factor", a.resetSecondFactor},
		{"POST", "/users/{id}/unlock", a.unlock},
		{"GET", "/policies", a.listPolicies},
		{"GET", "/policies/effective", a.effectivePolicy},
		{"GET", "/policies/global", a.getPolicy(storage.ScopeGlobal)},
		{"PUT", "/policies/global", a.putPolicy(storage.ScopeGlobal)},
		{"PATCH", "/policies/global", a.patchPolicy(storage.ScopeGlobal)},
		{"DELETE", "/policies/global", a.deletePolicy(storage.ScopeGlobal)},
		{"GET", "/policies/clients/{id}", a.getPolicy(storage.ScopeClient)},
		{"PUT", "/policies/clients/{id}", a.putPolicy(storage.ScopeClient)},
		{"PATCH", "/policies/clients/{id}", a.patchPolicy(storage.ScopeClient)},
		{"DELETE", "/policies/clients/{id}", a.deletePolicy(storage.ScopeClient)},
		{"GET", "/policies/users/{id}", a.getPolicy(storage.ScopeUser)},
		{"PUT", "/policies/users/{id}", a.putPolicy(storage.ScopeUser)},
		{"PATCH", "/policies/users/{id}", a.patchPolicy(storage.ScopeUser)},
		{"DELETE", "/policies/users/{id}", a.deletePolicy(storage.ScopeUser)},
		{"GET", "/sessions", a.listSessions},
		{"DELETE", "/sessions/{id}", a.revokeSession},
		{"POST", "/sessions/revoke", a.revokeSessions},
		{"GET", "/audit", a.listAudit},
		{"GET", "/keys", a.listKeys},
		{"POST", "/keys/rotate", a.rotateKeys},
	}
}

// registrar is what Mount registers on: *http.ServeMux, or a recorder in
// tests.
type registrar interface {
	Handle(pattern string, h http.Handler)
}

// Mount registers the API on mux, with a JSON 404 for every other path
// under Prefix. Every endpoint but the OpenAPI document needs a token.
func (a *Admin) Mount(mux *http.ServeMux) { a.mount(mux) }

func (a *Admin) mount(mux registrar) {
	known := http.NewServeMux() // the routes alone, to tell 405 from 404
	for _, rt := range a.routes() {
		mux.Handle(rt.method+" "+Prefix+rt.path, a.serve(rt.h, true))
		known.Handle(rt.method+" "+Prefix+rt.path, http.NotFoundHandler())
	}
	mux.Handle("GET "+Prefix+"/openapi.json", http.HandlerFunc(serveOpenAPI))
	known.Handle("GET "+Prefix+"/openapi.json", http.NotFoundHandler())
	mux.Handle(Prefix+"/", a.serve(func(w http.ResponseWriter, r *http.Request, _ Actor) error {
		if allow := allowedMethods(known, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
				Message: fmt.Sprintf("%s is not served at %s; use %s", r.Method, r.URL.Path, strings.Join(allow, " or "))}
		}
		return notFound("", "no endpoint %s %s", r.Method, r.URL.Path)
	}, false))
}

// allowedMethods lists the methods routes serves at the path of r. The
// catch-all under Prefix (for JSON 404s) would otherwise hide the mux's
// own 405.
func allowedMethods(routes *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := routes.Handler(probe); pattern != "" {
			out = append(out, m)
		}
	}
	return out
}

// serve adapts a handler: authentication, then the error rendering. The
// caller's message and the logged cause are different things: an
// internal error is logged and answered with a fixed text, a database
// outage with 503 unavailable and Retry-After.
func (a *Admin) serve(h handler, auth bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var actor Actor
		err := error(nil)
		if auth {
			actor, err = a.authenticate(r)
		}
		if err == nil {
			err = checkURLText(r)
		}
		if err == nil {
			err = h(w, r, actor)
		}
		if err == nil {
			return
		}
		e, ok := AsError(err)
		switch {
		case ok:
		case errors.Is(err, storage.ErrUnavailable):
			a.cfg.Log.ErrorContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(int(storage.RetryAfter.Seconds())))
			e = &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the database is briefly unavailable; try again shortly"}
		default:
			a.cfg.Log.ErrorContext(r.Context(), "admin API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			e = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error; see the server log"}
		}
		if e.challenge != "" {
			w.Header().Set("WWW-Authenticate", e.challenge)
		}
		writeJSON(w, e.Status, map[string]*Error{"error": e})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func ok(w http.ResponseWriter, v any) error { return writeJSON(w, http.StatusOK, v) }

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decode reads a JSON body into v: only application/json (no forms), at
// most MaxBody, no unknown fields, one value. With optional, an empty body
// is allowed and leaves v as it is.
func decode(r *http.Request, v any, optional bool) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" && optional && r.ContentLength <= 0 {
		ct = "application/json"
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeInvalidArgument, Field: "Content-Type",
			Message: "send the request body as application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	if err != nil {
		return bodyError(err)
	}
	if err := checkJSON(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if errors.Is(err, io.EOF) {
		if optional {
			return nil
		}
		return invalid("", "a JSON request body is required")
	}
	if err == nil && dec.More() {
		err = errors.New("one JSON value expected")
	}
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("one JSON value expected")
		}
	}
	return bodyError(err)
}

// bodyError names the field of a JSON decoding error where it can.
func bodyError(err error) error {
	var (
		tooBig  *http.MaxBytesError
		typ     *json.UnmarshalTypeError
		syntax  *json.SyntaxError
		unknown string
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeInvalidArgument, Message: fmt.Sprintf("request body larger than %d bytes", MaxBody)}
	case errors.As(err, &typ):
		return invalid(typ.Field, "must be %s (got %s)", jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &syntax):
		return invalid("", "malformed JSON at byte %d", syntax.Offset)
	}
	if name, found := strings.CutPrefix(err.Error(), "json: unknown field "); found {
		unknown, _ = strconv.Unquote(name)
		return invalid(unknown, "unknown field")
	}
	return invalid("", "malformed JSON: %v", err)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "ptr", "struct", "map":
		return "an object"
	}
	if strings.HasPrefix(k, "int") || strings.HasPrefix(k, "uint") || strings.HasPrefix(k, "float") {
		return "a number"
	}
	return k
}

// queryInt reads an optional integer query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, invalid(name, "must be a whole number (got %q)", s)
	}
	return n, nil
}

// ParseSince reads the audit log's since filter: empty, or an RFC 3339
// time; the API's query parameter and the command line's flag alike.
func ParseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalid("since", "must be an RFC 3339 time like 2025-01-02T15:04:05Z (got %q)", s)
	}
	return t, nil
}

// authenticate checks the bearer token: issued by this provider, live,
// with the admin scope and, for a user's token, a user with the admin role.
func (a *Admin) authenticate(r *http.Request) (Actor, error) {
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") || raw == "" || a.cfg.Verify == nil {
		return Actor{}, unauthenticated("", "send an access token with the twofold:admin scope: Authorization: Bearer <token>")
	}
	t, err := a.cfg.Verify.VerifyAccessToken(r.Context(), raw)
	if err != nil && a.cfg.ErrInvalidToken != nil && errors.Is(err, a.cfg.ErrInvalidToken) {
		return Actor{}, unauthenticated(`, error="invalid_token"`, "the access token is invalid, expired or revoked")
	} else if err != nil {
		return Actor{}, err
	}
	if !slices.Contains(t.Scopes, Scope) {
		return Actor{}, forbidden(`error="insufficient_scope", scope="`+Scope+`"`, "the access token lacks the "+Scope+" scope")
	}
	actor := Actor{Name: "client:" + t.ClientID, IP: a.cfg.ClientIP(r)}
	if t.UserID != "" {
		u, err := a.store.User(r.Context(), t.UserID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return Actor{}, err
		}
		if u == nil || !u.Admin || u.Disabled {
			return Actor{}, forbidden(`error="insufficient_scope"`, "the signed-in user does not have the admin role")
		}
		actor.Name = "user:" + u.ID
	}
	return actor, nil
}

func unauthenticated(params, msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: msg,
		challenge: `Bearer realm="twofold admin"` + params}
}

func forbidden(params, msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: msg,
		challenge: `Bearer realm="twofold admin", ` + params}
}
