package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
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
	// Errors lists every problem when the input had more than one (the
	// first is also Field and Message), so that all can be fixed at once.
	Errors []FieldError `json:"errors,omitempty"`

	challenge string // WWW-Authenticate of a 401 or 403
}

// FieldError is one problem with the input: the field (as the API names
// it) and what is wrong, in words that do not depend on how the field was
// given (a JSON key, a command-line flag).
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if len(e.Errors) > 1 {
		lines := make([]string, len(e.Errors))
		for i, f := range e.Errors {
			lines[i] = f.Field + ": " + f.Message
		}
		return strings.Join(lines, "\n")
	}
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// problems collects the input errors of one request, so that a caller
// hears of every bad field at once.
type problems []FieldError

// add records a problem with field.
func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err is nil without problems, else one invalid_argument Error naming the
// first field and listing them all.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	e := invalid(p[0].Field, "%s", p[0].Message)
	if len(p) > 1 {
		e.Errors = p
	}
	return e
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
