package server

import (
	"context"
	"log/slog"
)

// requestIDKey carries a request's id in its context.
type requestIDKey struct{}

// withRequestID returns ctx carrying the id of the request it serves.
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id of the request ctx serves (the X-Request-Id
// the response carries), or "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestIDHandler adds request_id to every record logged with the
// context of a request (the *Context calls: ErrorContext, WarnContext,
// InfoContext, LogAttrs), so that all a request logged, in any package
// and in zitadel/oidc, can be found by the id of its access log line.
type requestIDHandler struct{ slog.Handler }

// withRequestIDs wraps h once.
func withRequestIDs(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

// Handle implements slog.Handler.
func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone() // the caller may keep its record; ours gets the attribute
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler, keeping the wrapper.
func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler, keeping the wrapper.
func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
