package fastpath

import (
	"testing"
)

// TestParseRefusesHeaderNamesThatAreNotTokens pins that parse leaves to net/http every
// head with a header name that is not a token (a space before the colon, a space inside the
// name, a byte outside the token set): net/http refuses those heads with 400, and a name such
// as "Content-Length " must never be read as an ordinary header that lets a body through
// unframed.
// Guards against: validName check dropped in request.go:parse
// Guards against: space added to validName's token characters in request.go:validName
func TestParseRefusesHeaderNamesThatAreNotTokens(t *testing.T) {
	for _, head := range []string{
		"GET /a HTTP/1.1\r\nHost: h\r\nContent-Length : 3\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\nX A: b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\nX\"A: b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\n: b\r\n\r\n",
	} {
		var req Request
		if parse([]byte(head), &req, nil) {
			t.Errorf("parse(%q) took a head whose header name is not a token", head)
		}
	}
}

// TestNonTokenHeaderNameAnswersAsNetHTTP: a GET with "Content-Length : 3" and a body
// gets net/http's answer behind the fast path (a 400 and a closed connection), not a fast
// answer followed by the body read as a request of its own.
// Guards against: validName check dropped in request.go:parse
// Guards against: space added to validName's token characters in request.go:validName
func TestNonTokenHeaderNameAnswersAsNetHTTP(t *testing.T) {
	plain, fronted := differentialServers(t)
	raw := []byte("GET /doc HTTP/1.1\r\nHost: h\r\nContent-Length : 29\r\n\r\n" +
		"GET /doc HTTP/1.1\r\nHost: h\r\n\r\n")
	want := exchange(t, plain, raw)
	if got := exchange(t, fronted, raw); got != want {
		t.Errorf("behind the fast path: %q\nnet/http alone:       %q", got, want)
	}
}

// TestParseMatchesWholeHeaderNames pins that a header name counts as Host,
// If-None-Match or X-Request-Id only when it is the whole name, not a prefix of it: "H" is
// not Host (so a head with no real Host goes to net/http's 400), "I" is not If-None-Match and
// "X" is not X-Request-Id.
// Guards against: equalFold's length check weakened to len(b) > len(lower) in request.go:equalFold
func TestParseMatchesWholeHeaderNames(t *testing.T) {
	var req Request
	if parse([]byte("GET /a HTTP/1.1\r\nH: h\r\n\r\n"), &req, nil) {
		t.Error(`"H: h" taken as the Host header`)
	}
	if !parse([]byte("GET /a HTTP/1.1\r\nHost: h\r\nI: \"x\"\r\nX: abc\r\n\r\n"), &req, nil) {
		t.Fatal("a head with headers named I and X is refused")
	}
	if req.IfNoneMatch != nil || req.RequestID != nil {
		t.Errorf("IfNoneMatch %q, RequestID %q; want both absent", req.IfNoneMatch, req.RequestID)
	}
}

// TestParseTrimsLeadingTab pins that a header value loses leading tabs as well as
// spaces, as net/http trims it: If-None-Match "\t\"x\"" is the entity tag "x" quoted.
// Guards against: leading-tab trim dropped in request.go:trimSpace
func TestParseTrimsLeadingTab(t *testing.T) {
	var req Request
	if !parse([]byte("GET /a HTTP/1.1\r\nHost: h\r\nIf-None-Match:\t \t\"x\"\r\nX-Request-Id:\tid\r\n\r\n"), &req, nil) {
		t.Fatal("head refused")
	}
	if string(req.IfNoneMatch) != `"x"` || string(req.RequestID) != "id" {
		t.Errorf("IfNoneMatch %q, RequestID %q; want %q, %q", req.IfNoneMatch, req.RequestID, `"x"`, "id")
	}
}
