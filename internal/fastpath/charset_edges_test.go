package fastpath

import (
	"strings"
	"testing"
)

// TestParseCharacterSets pins the exact character sets of the package doc: a path of
// letters, digits and "-._~/" only, a Host of letters, digits and "-._:[]" only, a request
// line of "GET " or "HEAD " with that space (not a tab) and a non-empty target, and header
// values of visible ASCII, spaces and tabs (a tab inside a value is well formed and stays on
// the fast path).
// Guards against: validValue refusing a tab inside a value
// Guards against: validHost taking '@' or ','
// Guards against: isAlnum taking ':' (a path "/a:b")
// Guards against: isAlnum taking '[' (a path "/a[b", a header name "X[")
// Guards against: parseRequestLine matching "GET" without its space
// Guards against: validPath without its length check ("GET  HTTP/1.1" panics)
func TestParseCharacterSets(t *testing.T) {
	const host = "Host: h\r\n"
	tests := []struct {
		name, head string
		want       bool
	}{
		{"tab inside a value", "GET /a HTTP/1.1\r\n" + host + "X-A: a\tb\r\n\r\n", true},
		{"tab inside If-None-Match",
			"GET /a HTTP/1.1\r\n" + host + "If-None-Match: \"x\",\t\"y\"\r\n\r\n", true},
		{"'@' in Host", "GET /a HTTP/1.1\r\nHost: u@h\r\n\r\n", false},
		{"',' in Host", "GET /a HTTP/1.1\r\nHost: h,i\r\n\r\n", false},
		{"':' in path", "GET /a:b HTTP/1.1\r\n" + host + "\r\n", false},
		{"'[' in path", "GET /a[b HTTP/1.1\r\n" + host + "\r\n", false},
		{"'@' in path", "GET /a@b HTTP/1.1\r\n" + host + "\r\n", false},
		{"'[' in a header name", "GET /a HTTP/1.1\r\n" + host + "X[: b\r\n\r\n", false},
		{"no space after GET", "GET/a HTTP/1.1\r\n" + host + "\r\n", false},
		{"tab after GET", "GET\t/a HTTP/1.1\r\n" + host + "\r\n", false},
		{"no space after HEAD", "HEAD/a HTTP/1.1\r\n" + host + "\r\n", false},
		{"empty target", "GET  HTTP/1.1\r\n" + host + "\r\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req Request
			if got := parse([]byte(tc.head), &req, nil); got != tc.want {
				t.Errorf("parse(%q) = %v, want %v", tc.head, got, tc.want)
			}
		})
	}
}

// TestRequestValuesCannotOverwriteTheHead: the If-None-Match and X-Request-Id slices a
// Handler receives are capped at their own length, so appending to one (as a Handler might,
// to build a tag) copies it instead of overwriting the rest of the connection's buffer: the
// next header, or a pipelined request, stays intact.
// Guards against: IfNoneMatch left with the buffer's capacity (value instead of value[:n:n])
// Guards against: RequestID left with the buffer's capacity
func TestRequestValuesCannotOverwriteTheHead(t *testing.T) {
	const head = "GET /a HTTP/1.1\r\nIf-None-Match: \"x\"\r\nX-Request-Id: id\r\nHost: h\r\n\r\n"
	for _, field := range []string{"If-None-Match", "X-Request-Id"} {
		t.Run(field, func(t *testing.T) {
			buf := []byte(head)
			var req Request
			if !parse(buf, &req, nil) {
				t.Fatal("head refused")
			}
			value := req.IfNoneMatch
			if field == "X-Request-Id" {
				value = req.RequestID
			}
			_ = append(value, "ZZZZ"...)
			if string(buf) != head {
				t.Errorf("appending to %s changed the head to %q", field, buf)
			}
		})
	}
}

// TestOrdinaryHeadOfAKilobyteStaysOnTheFastPath: a head of about 1.5 KiB (a browser's
// with its cookies and user agent) fits the fast path's buffer and is answered there, not
// handed to net/http for its size.
// Guards against: bufferSize shrunk below the size of ordinary heads (e.g. 256 bytes)
func TestOrdinaryHeadOfAKilobyteStaysOnTheFastPath(t *testing.T) {
	hs := start(t, Config{})
	cl := hs.dial(t)
	cl.send("GET /doc HTTP/1.1\r\nHost: h\r\nCookie: " + strings.Repeat("c", 1500) + "\r\n\r\n")
	if path, status, _ := cl.read("GET"); path != "fast" || status != 200 {
		t.Errorf("answer %d from %q; want 200 from the fast path", status, path)
	}
}
