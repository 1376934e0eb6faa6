package apierror

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStatusOfEveryCode pins the HTTP status of every code, and 500 for a code nobody
// defined.
// Guards against: apierror.go statusOf entries changed or dropped (method_not_allowed,
// client_closed, ...)
// Guards against: apierror.go:68 unknown code -> a status other than 500
func TestStatusOfEveryCode(t *testing.T) {
	for code, want := range map[string]int{
		CodeInvalidRequest:   400,
		CodeUnauthenticated:  401,
		CodeForbidden:        403,
		CodeNotFound:         404,
		CodeMethodNotAllowed: 405,
		CodeConflict:         409,
		CodePrecondition:     412,
		CodeTooLarge:         413,
		CodeRateLimited:      429,
		CodeUpstream:         502,
		CodeUnavailable:      503,
		CodeInternal:         500,
		CodeClientClosed:     499,
		"no_such_code":       500,
	} {
		if got := (&Error{Code: code}).Status(); got != want {
			t.Errorf("%s: status %d, want %d", code, got, want)
		}
		rec := httptest.NewRecorder()
		Write(rec, &Error{Code: code, Message: "m."})
		if rec.Code != want {
			t.Errorf("Write(%s): status %d, want %d", code, rec.Code, want)
		}
	}
}

// decodeEnvelope parses an answer as the error envelope and nothing else.
func decodeEnvelope(t *testing.T, rec *httptest.ResponseRecorder) (code, message string) {
	t.Helper()
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("the answer is not the error envelope: %v", err)
	}
	return env.Error.Code, env.Error.Message
}

// TestWriteHidesInternalErrors pins that an error that is not an *Error is answered as a generic
// 500 internal error whose message repeats nothing of the error (which may hold a secret, a path or
// a stack), while a wrapped *Error keeps its code and message.
// Guards against: apierror.go:109 generic message replaced by err.Error()
func TestWriteHidesInternalErrors(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, fmt.Errorf("vault: login with token hvs.SECRET-TOKEN failed at /etc/broker/key.pem"))
	code, msg := decodeEnvelope(t, rec)
	if rec.Code != 500 || code != CodeInternal {
		t.Fatalf("status %d code %q, want 500 internal", rec.Code, code)
	}
	if strings.Contains(msg, "hvs.") || strings.Contains(msg, "SECRET") || strings.Contains(msg, "/etc/broker") {
		t.Errorf("the 500 message repeats the error: %q", msg)
	}
	rec = httptest.NewRecorder()
	Write(rec, fmt.Errorf("wrapped: %w", New(CodeConflict, "The run moved on.")))
	if code, msg := decodeEnvelope(t, rec); rec.Code != 409 || code != CodeConflict || msg != "The run moved on." {
		t.Errorf("wrapped *Error: status %d, envelope %q %q; want 409 conflict with its message", rec.Code, code, msg)
	}
}

// TestWriteTypedNil pins that a nil *Error passed as an error is answered as the generic 500,
// not a panic that drops the connection.
func TestWriteTypedNil(t *testing.T) {
	var e *Error
	rec := httptest.NewRecorder()
	Write(rec, e)
	if code, _ := decodeEnvelope(t, rec); rec.Code != 500 || code != CodeInternal {
		t.Errorf("status %d code %q, want 500 internal", rec.Code, code)
	}
}

// TestWriteHeaders pins the headers of an error answer: JSON, no-store, Retry-After only when
// RetryAfter is positive, and WWW-Authenticate: Bearer on (only) a 401.
// Guards against: apierror.go:114 RetryAfter > 0 -> >= 0 (Retry-After: 0 on every error)
// Guards against: apierror.go:119 WWW-Authenticate dropped
// Guards against: apierror.go:113 Cache-Control: no-store dropped
func TestWriteHeaders(t *testing.T) {
	for _, tc := range []struct {
		err        *Error
		retry, www string
	}{
		{&Error{Code: CodeRateLimited, Message: "Slow down.", RetryAfter: 7}, "7", ""},
		{&Error{Code: CodeInvalidRequest, Message: "Bad."}, "", ""},
		{&Error{Code: CodeUnauthenticated, Message: "Who?"}, "", "Bearer"},
		{&Error{Code: CodeForbidden, Message: "No."}, "", ""},
	} {
		rec := httptest.NewRecorder()
		Write(rec, tc.err)
		h := rec.Header()
		if _, set := h["Retry-After"]; set != (tc.retry != "") || h.Get("Retry-After") != tc.retry {
			t.Errorf("%s: Retry-After %q (set %v), want %q", tc.err.Code, h.Get("Retry-After"), set, tc.retry)
		}
		if got := h.Get("WWW-Authenticate"); got != tc.www {
			t.Errorf("%s: WWW-Authenticate %q, want %q", tc.err.Code, got, tc.www)
		}
		if h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Content-Type %q Cache-Control %q", tc.err.Code, h.Get("Content-Type"), h.Get("Cache-Control"))
		}
		if code, msg := decodeEnvelope(t, rec); code != tc.err.Code || msg != tc.err.Message {
			t.Errorf("envelope %q %q, want %q %q", code, msg, tc.err.Code, tc.err.Message)
		}
	}
}

// TestMessageBound pins MaxMessage: a message of exactly MaxMessage bytes is kept whole; a longer
// one is cut to at most MaxMessage bytes, on a rune boundary, ending in the marker; in New and in
// Write (an *Error built directly with a long message).
// Guards against: apierror.go:85 len(msg) <= MaxMessage -> <
// Guards against: apierror.go:88 cut := MaxMessage - len(cutMarker) -> MaxMessage (answer over the
// bound)
// Guards against: apierror.go:89 rune-boundary loop dropped (invalid UTF-8 cut)
// Guards against: apierror.go:80 New without bound; apierror.go:122 Write without bound
func TestMessageBound(t *testing.T) {
	exact := strings.Repeat("a", MaxMessage)
	if got := New(CodeInvalidRequest, "%s", exact).Message; got != exact {
		t.Errorf("a message of exactly MaxMessage bytes was changed (%d bytes)", len(got))
	}
	for _, long := range []string{
		strings.Repeat("b", 3*MaxMessage),
		strings.Repeat("é", MaxMessage),
		"x" + strings.Repeat("é", MaxMessage),  // 2-byte runes at odd offsets: the cut falls inside one
		"xy" + strings.Repeat("€", MaxMessage), // 3-byte runes: the cut falls inside one
	} {
		got := New(CodeInvalidRequest, "%s", long).Message
		if len(got) > MaxMessage || !strings.HasSuffix(got, cutMarker) || !utf8.ValidString(got) {
			t.Errorf("New: cut message of %d bytes, valid UTF-8 %v, ends %q", len(got), utf8.ValidString(got), got[max(0, len(got)-12):])
		}
		rec := httptest.NewRecorder()
		Write(rec, &Error{Code: CodeInvalidRequest, Message: long})
		_, msg := decodeEnvelope(t, rec)
		if len(msg) > MaxMessage || !strings.HasSuffix(msg, cutMarker) || strings.ContainsRune(msg, utf8.RuneError) {
			t.Errorf("Write: message of %d bytes, ends %q", len(msg), msg[max(0, len(msg)-12):])
		}
	}
}
