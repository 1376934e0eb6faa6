package apierror

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/brokerhq/broker/internal/redact"
	"github.com/brokerhq/broker/internal/textcut"
)

// Codes of the contract (section 3), plus method_not_allowed, client_closed and internal as
// extensions.
const (
	CodeInvalidRequest   = "invalid_request"
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodePrecondition     = "precondition_failed"
	CodeTooLarge         = "too_large"
	CodeRateLimited      = "rate_limited"
	CodeUpstream         = "upstream_error"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
	// CodeClientClosed answers a request whose client went away before its answer: nobody
	// receives it; it is there for the access log and the metrics.
	CodeClientClosed = "client_closed"
)

// StatusClientClosed is the status of CodeClientClosed, as proxies (nginx) log a request whose
// client closed the connection first.
const StatusClientClosed = 499

var statusOf = map[string]int{
	CodeInvalidRequest:   http.StatusBadRequest,
	CodeUnauthenticated:  http.StatusUnauthorized,
	CodeForbidden:        http.StatusForbidden,
	CodeNotFound:         http.StatusNotFound,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeConflict:         http.StatusConflict,
	CodePrecondition:     http.StatusPreconditionFailed,
	CodeTooLarge:         http.StatusRequestEntityTooLarge,
	CodeRateLimited:      http.StatusTooManyRequests,
	CodeUpstream:         http.StatusBadGateway,
	CodeUnavailable:      http.StatusServiceUnavailable,
	CodeInternal:         http.StatusInternalServerError,
	CodeClientClosed:     StatusClientClosed,
}

// Error is an error meant for the API caller: a code and one human sentence. Its message must
// never hold a secret.
type Error struct {
	Code    string
	Message string
	// RetryAfter, when positive, is sent as a Retry-After header in seconds.
	RetryAfter int
}

// Error implements error: the code and the message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status of the error's code.
func (e *Error) Status() int {
	if s, ok := statusOf[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// MaxMessage bounds a message in bytes: one that quotes what a caller sent (a name of any
// length) is cut there, so that an answer stays small whatever the request.
const MaxMessage = 2048

// cutMarker ends a message cut at MaxMessage.
const cutMarker = " [... cut]"

// New returns an *Error with a formatted message, cut to MaxMessage bytes.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: bound(fmt.Sprintf(format, args...))}
}

// bound cuts msg to at most MaxMessage bytes, on a rune boundary, saying so.
func bound(msg string) string {
	if len(msg) <= MaxMessage {
		return msg
	}
	return textcut.Prefix(msg, MaxMessage-len(cutMarker)) + cutMarker
}

type envelope struct {
	Error body `json:"error"`
}

type body struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Write sends err in the envelope. An error that is not (and does not wrap) an *Error becomes a
// generic 500 whose message reveals nothing, as does a nil *Error; callers log the details
// themselves.
func Write(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) || e == nil {
		e = &Error{Code: CodeInternal, Message: "Internal error; the server log has the details."}
	}
	if m := redact.Secrets(e.Message); m != e.Message {
		// A secret sent where an id goes is not written back: the answer reaches logs too.
		c := *e
		c.Message = m
		e = &c
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", fmt.Sprint(e.RetryAfter))
	}
	if e.Code == CodeUnauthenticated {
		// A 401 names the scheme it takes: every credential (API key, run token) is a bearer.
		h.Set("WWW-Authenticate", "Bearer")
	}
	w.WriteHeader(e.Status())
	_, _ = w.Write(Body(e))
}

// Body is e's answer body: the envelope, as JSON ending in a line feed. Its message is cut to
// MaxMessage bytes, and a secret in it is left out.
func Body(e *Error) []byte {
	b, err := json.Marshal(envelope{Error: body{Code: e.Code, Message: bound(redact.Secrets(e.Message))}})
	if err != nil { // strings alone cannot fail to encode
		panic(err)
	}
	return append(b, '\n')
}
