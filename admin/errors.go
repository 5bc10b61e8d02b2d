package admin

import (
	"errors"
	"fmt"
	"net/http"
)

// Stable error codes of the API.
const (
	CodeInvalidArgument = "invalid_argument"
	CodeNotFound        = "not_found"
	CodeUnauthenticated = "unauthenticated"
	CodeForbidden       = "forbidden"
	CodeConflict        = "conflict"
	CodeInternal        = "internal"
	CodeUnavailable     = "unavailable" // the database is down: retry
	// CodeMethodNotAllowed: the path exists, the method does not (405,
	// with Allow).
	CodeMethodNotAllowed = "method_not_allowed"
)

// Error is a failure the caller can act on: it carries the HTTP status, a
// stable code, a message safe to show and, for bad input, the field. Any
// other error is internal and never shown.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`

	challenge string // WWW-Authenticate of a 401 or 403
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// invalid reports bad input in one field.
func invalid(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidArgument, Field: field, Message: fmt.Sprintf(format, args...)}
}

// notFound reports an unknown id.
func notFound(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Field: field, Message: fmt.Sprintf(format, args...)}
}

// conflict reports a clash with existing data.
func conflict(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: CodeConflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
