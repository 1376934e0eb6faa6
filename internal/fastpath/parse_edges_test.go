package fastpath

import (
	"testing"
)

// TestParseFramingEdges pins which heads parse takes and which it leaves to net/http: origin-form
// targets only, CRLF on every header line, no DEL in values, and header names that merely begin
// with a name the fast path knows ("Hostname", "Expect-CT") are ordinary headers.
// Guards against: request.go:120 validPath without the leading-'/' check
// Guards against: request.go:112 cutLine accepting a bare LF inside the head
// Guards against: request.go:129 validValue letting DEL (0x7f) through
// Guards against: request.go:170 equalFold comparing len(b) < len(lower) (panics on "Hostname")
func TestParseFramingEdges(t *testing.T) {
	tests := []struct {
		name, head string
		want       bool
	}{
		{"target without leading slash", "GET doc HTTP/1.1\r\nHost: h\r\n\r\n", false},
		{"asterisk target", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", false},
		{"bare LF ends a header line", "GET /a HTTP/1.1\r\nX-A: ab\nHost: hh\r\n\r\n", false},
		{"bare LF ends the Host line", "GET /a HTTP/1.1\r\nHost: hh\nX: y\r\n\r\n", false},
		{"DEL in a value", "GET /a HTTP/1.1\r\nHost: h\r\nX-A: a\x7fb\r\n\r\n", false},
		{"Hostname is not Host", "GET /a HTTP/1.1\r\nHost: h\r\nHostname: x\r\n\r\n", true},
		{"Expect-CT is not Expect", "GET /a HTTP/1.1\r\nHost: h\r\nExpect-CT: x\r\n\r\n", true},
		{"Connection-Id is not Connection", "GET /a HTTP/1.1\r\nHost: h\r\nConnection-Id: x\r\n\r\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req Request
			var got bool
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Fatalf("parse(%q) panicked: %v", tc.head, v)
					}
				}()
				got = parse([]byte(tc.head), &req, nil)
			}()
			if got != tc.want {
				t.Fatalf("parse(%q) = %v, want %v", tc.head, got, tc.want)
			}
		})
	}
}

// TestUnusualHeadsAnswerAsNetHTTP: heads with a DEL in a value, a header name that starts with
// "Host", or a bare-LF blank line get net/http's exact answer behind the fast path.
// Guards against: request.go:129 validValue letting DEL (0x7f) through (fast path answers 200,
// net/http 400)
// Guards against: request.go:170 equalFold len(b) < len(lower) (connection dropped on a panic)
func TestUnusualHeadsAnswerAsNetHTTP(t *testing.T) {
	plain, fronted := differentialServers(t)
	for _, raw := range []string{
		"GET /doc HTTP/1.1\r\nHost: h\r\nX-A: a\x7fb\r\n\r\n",
		"GET /doc HTTP/1.1\r\nHost: h\r\nHostname: x\r\n\r\n",
		"GET /doc HTTP/1.1\r\nHost: h\r\nX-Request-Identity: x\r\n\r\n",
		"GET /doc HTTP/1.1\r\nHost: h\r\n\n",
	} {
		want := exchange(t, plain, []byte(raw))
		if got := exchange(t, fronted, []byte(raw)); got != want {
			t.Errorf("for %q\nbehind the fast path: %q\nnet/http alone:       %q", raw, got, want)
		}
	}
}
