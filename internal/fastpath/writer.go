package fastpath

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/net/http/httpguts"
)

// answerWriter is the http.ResponseWriter of a request the fast path reads for its Service: it
// keeps the answer and finish completes it, as net/http writes an answer whose body fits its
// buffer. The header is taken when the status is set (at WriteHeader, or at the first Write),
// as net/http takes it; no informational (1xx) answer is sent, and there is no http.Flusher or
// http.Hijacker, so a handler that needs those must not be given to the fast path.
type answerWriter struct {
	header http.Header
	// status is the answer's status, zero until WriteHeader or Write.
	status int
	// out holds the status line and the header fields written so far; body the body.
	out, body []byte
	// What the header said when the status was set: a Date, a Content-Type, and the
	// Connection field's values.
	hasDate, hasType bool
	connection       []string
}

// Header is the header the answer will have.
func (w *answerWriter) Header() http.Header { return w.header }

// framing are the header fields the fast path writes itself: the answer's length is always
// the body's, in Content-Length, and Connection comes last.
var framing = map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Trailer": true, "Connection": true}

// appendWriter appends what is written to it to b.
type appendWriter struct{ b *[]byte }

func (a appendWriter) Write(p []byte) (int, error) { *a.b = append(*a.b, p...); return len(p), nil }

func (a appendWriter) WriteString(s string) (int, error) {
	*a.b = append(*a.b, s...)
	return len(s), nil
}

// WriteHeader sets the answer's status and takes its header, once; a status net/http refuses
// panics, as it does, and an informational one is dropped. The header is written sorted by
// name, newlines in values made spaces and invalid names left out, as net/http writes it.
func (w *answerWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.status != 0 || code < 200 {
		return
	}
	w.status = code
	w.out = AppendStatusLine(w.out, code)
	_ = w.header.WriteSubset(appendWriter{&w.out}, framing)
	_, w.hasDate = w.header["Date"]
	_, w.hasType = w.header["Content-Type"]
	w.connection = w.header["Connection"]
}

// Write adds p to the answer's body (see openBody).
func (w *answerWriter) Write(p []byte) (int, error) {
	if err := w.openBody(); err != nil {
		return 0, err
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

// WriteString adds s to the answer's body, as Write does.
func (w *answerWriter) WriteString(s string) (int, error) {
	if err := w.openBody(); err != nil {
		return 0, err
	}
	w.body = append(w.body, s...)
	return len(s), nil
}

// openBody sets the status 200 if none is set, and refuses a body when the status has none,
// as net/http does.
func (w *answerWriter) openBody() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return http.ErrBodyNotAllowed
	}
	return nil
}

// bodyAllowed says whether an answer of status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// finish completes the answer and returns it whole: after the handler's header, Date unless
// the handler set one, Content-Length when the status allows a body, a Content-Type sniffed
// from the body when the handler set none, as net/http adds them, then Connection: "close"
// when closing (the connection's last answer) or when the handler said close, else the
// handler's own value; then the body. closes reports whether the connection ends after it.
func (w *answerWriter) finish(closing bool) (answer []byte, closes bool) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	out := w.out
	if !w.hasDate {
		out = AppendDate(out, time.Now())
	}
	allowed := bodyAllowed(w.status)
	if allowed {
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, int64(len(w.body)), 10)
		out = append(out, "\r\n"...)
		if !w.hasType && len(w.body) > 0 {
			out = append(out, "Content-Type: "...)
			out = append(out, http.DetectContentType(w.body)...)
			out = append(out, "\r\n"...)
		}
	}
	closes = closing || httpguts.HeaderValuesContainsToken(w.connection, "close")
	switch {
	case closes:
		out = append(out, connectionClose...)
	case len(w.connection) > 0:
		out = appendConnection(out, w.connection)
	}
	out = append(out, "\r\n"...)
	if allowed {
		out = append(out, w.body...)
	}
	return out, closes
}

// appendConnection appends the Connection field of values to out as net/http writes it. It is
// apart from finish so that only an answer with the field pays for out's escape to the heap.
func appendConnection(out []byte, values []string) []byte {
	_ = http.Header{"Connection": values}.Write(appendWriter{&out})
	return out
}
