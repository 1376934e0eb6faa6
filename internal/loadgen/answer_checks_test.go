package loadgen

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// parseAnswer feeds whole to a fresh answer in one read and returns it, whether it was complete
// and the parse error.
func parseAnswer(whole string) (*answer, bool, error) {
	a := &answer{}
	a.reset()
	k := copy(a.space(), whole)
	done, err := a.advance(k)
	return a, done, err
}

// TestAnswerStatusLine checks the status line's rules: HTTP/1.1 or HTTP/1.0, then exactly
// three digits from 100 up, alone or followed by a space and a reason; HTTP/1.0 closes.
// Guards against: evloop_parse.go:parseStatus line[12] != ' ' check dropped
// Guards against: evloop_parse.go:parseStatus a bare "HTTP/1.1 200" refused
// Guards against: evloop_parse.go:parseStatus status < 100 -> <= 100
// Guards against: evloop_parse.go:parseStatus status < 100 check dropped
// Guards against: evloop_parse.go:parseStatus HTTP/1.0 keep = false dropped
func TestAnswerStatusLine(t *testing.T) {
	for _, c := range []struct {
		line   string
		status int
		keep   bool
	}{
		{"HTTP/1.1 200", 200, true},
		{"HTTP/1.1 100 Continue", 100, true},
		{"HTTP/1.0 200 OK", 200, false},
		{"HTTP/1.1 2000 OK", 0, false},
		{"HTTP/1.1 099 Low", 0, false},
		{"HTTP/1.1 +99 Low", 0, false},
	} {
		a, done, err := parseAnswer(c.line + "\r\nContent-Length: 0\r\n\r\n")
		switch {
		case c.status == 0 && (err == nil || !errors.Is(err, errAnswer)):
			t.Errorf("%q: done %v, status %d, error %v; want a malformed answer",
				c.line, done, a.status, err)
		case c.status != 0 && (err != nil || !done || a.status != c.status || a.keep != c.keep):
			t.Errorf("%q: done %v, status %d, keep %v, error %v; want status %d, keep %v",
				c.line, done, a.status, a.keep, err, c.status, c.keep)
		}
	}
}

// TestAnswerContentLength checks the Content-Length rules: matched in any case and with
// spaces around its value, a repeat of the same length accepted, a conflicting or empty one
// refused, at most maxMeasuredAnswer bytes, and not one byte more than it announces.
// Guards against: evloop_parse.go:parseLength n > maxMeasuredAnswer -> >=
// Guards against: evloop_parse.go:parseLength empty value check dropped
// Guards against: evloop_parse.go:parseHeader conflicting Content-Length check dropped
// Guards against: evloop_parse.go:parseHeader a repeated equal Content-Length refused
// Guards against: evloop_parse.go:parseHeader header name matched case-sensitively
// Guards against: evloop_parse.go:advance bytes after the body: a.n > total -> a.n > total+1
// Guards against: evloop_parse.go:parseLength c < '0' check dropped
func TestAnswerContentLength(t *testing.T) {
	n, ok := parseLength([]byte(strconv.Itoa(maxMeasuredAnswer)))
	if !ok || n != maxMeasuredAnswer {
		t.Errorf("parseLength(maxMeasuredAnswer) = %d, %v; want it accepted", n, ok)
	}
	if n, ok := parseLength([]byte(strconv.Itoa(maxMeasuredAnswer + 1))); ok {
		t.Errorf("parseLength(maxMeasuredAnswer+1) = %d, accepted", n)
	}
	for _, c := range []struct {
		name, whole string
		body        string // "" with ok false: refused
		ok          bool
	}{
		{"lower case", "HTTP/1.1 200 OK\r\ncontent-length:  3 \r\n\r\nabc", "abc", true},
		{"repeated alike", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
			"abc", true},
		{"conflicting", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
			"", false},
		{"empty", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", "", false},
		{"not a digit", "HTTP/1.1 200 OK\r\nContent-Length: 1/\r\n\r\n123456789", "", false},
		{"one byte more", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcd", "", false},
	} {
		a, done, err := parseAnswer(c.whole)
		switch {
		case c.ok && (err != nil || !done || string(a.body()) != c.body):
			t.Errorf("%s: done %v, error %v; want body %q", c.name, done, err, c.body)
		case !c.ok && (err == nil || !errors.Is(err, errAnswer)):
			t.Errorf("%s: done %v, error %v; want a malformed answer", c.name, done, err)
		}
	}
}

// TestAnswerConnectionClose checks that "Connection: close" is honoured in any case and
// with spaces around it.
// Guards against: evloop_parse.go:parseHeader close matched case-sensitively
// Guards against: evloop_parse.go:parseHeader value not trimmed
func TestAnswerConnectionClose(t *testing.T) {
	for _, h := range []string{"Connection: Close", "connection:close  "} {
		a, done, err := parseAnswer("HTTP/1.1 200 OK\r\n" + h + "\r\nContent-Length: 0\r\n\r\n")
		if err != nil || !done || a.keep {
			t.Errorf("%q: done %v, keep %v, error %v; want a complete answer that closes",
				h, done, a.keep, err)
		}
	}
}

// TestAnswerCutSaysWhere checks the error of a connection that ended mid-answer: it names
// the part that was cut (status line, headers, body) and wraps the read error, io's unexpected
// EOF when the read ended cleanly.
// Guards against: evloop_parse.go:cut "read the headers" case dropped
// Guards against: evloop_parse.go:cut nil error not replaced by io.ErrUnexpectedEOF
func TestAnswerCutSaysWhere(t *testing.T) {
	for _, c := range []struct{ part, want string }{
		{"HTTP/1.1 20", "read the status line"},
		{"HTTP/1.1 200 OK\r\nContent-Le", "read the headers"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", "answer cut after 3 of 9 bytes"},
	} {
		a, _, err := parseAnswer(c.part)
		if err != nil {
			t.Fatalf("%q: %v", c.part, err)
		}
		cut := a.cut(nil)
		if !strings.Contains(cut.Error(), c.want) || !errors.Is(cut, io.ErrUnexpectedEOF) {
			t.Errorf("%q cut: %v; want %q, wrapping io.ErrUnexpectedEOF", c.part, cut, c.want)
		}
	}
}

// TestExpectTokenNeedsAJWT checks that a token answer is accepted only when its "token"
// member holds a JWT, not any value.
// Guards against: httpdriver.go:expectToken `"token":"ey` -> `"token"`
func TestExpectTokenNeedsAJWT(t *testing.T) {
	nullToken := []byte(`{"token":null,"expiresAt":"2030-01-01T00:00:00Z"}`)
	if err := expectToken(200, nullToken); err == nil {
		t.Error("an answer whose token is null was accepted")
	}
	if err := expectToken(200, []byte(tokenAnswer)); err != nil {
		t.Errorf("a token answer: %v", err)
	}
}

// TestExpectBodyNeedsExactlyTheDocument checks that a document answer is accepted only when
// it is exactly the expected bytes, not a longer answer that starts with them.
// Guards against: httpdriver.go:expectBody bytes.Equal -> bytes.HasPrefix
func TestExpectBodyNeedsExactlyTheDocument(t *testing.T) {
	check := expectBody([]byte(`{"keys":[]}`))
	if err := check(200, []byte(`{"keys":[]}{"keys":[1]}`)); err == nil {
		t.Error("an answer longer than the document was accepted")
	}
	if err := check(200, []byte(`{"keys":[]}`)); err != nil {
		t.Errorf("the document itself: %v", err)
	}
}

// TestExpectOKNeedsExactly200 checks that an answer is accepted only with status 200:
// another success status (201, 204) is refused like an error.
// Guards against: httpdriver.go:expectOK status != 200 -> status >= 300
func TestExpectOKNeedsExactly200(t *testing.T) {
	for _, status := range []int{201, 204, 199} {
		if err := expectOK(status, nil); err == nil {
			t.Errorf("status %d accepted", status)
		}
	}
	if err := expectOK(200, nil); err != nil {
		t.Errorf("status 200: %v", err)
	}
}
