package loadgen

import (
	"net/http"
	"testing"
)

// TestBuildRequestWire checks the bytes of a request as sent: the request line, Host and
// User-Agent, the headers sorted by name, a Content-Length whenever a body is set (0 for an
// empty one), then the body.
// Guards against: httpdriver.go:buildRequest Content-Length only for a non-empty body
// Guards against: httpdriver.go:buildRequest header names not sorted
func TestBuildRequestWire(t *testing.T) {
	req := HTTPRequest{Method: http.MethodPost, URL: "http://127.0.0.1:8080/v1/token?x=1",
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer rt"},
			"X-B": {"1", "2"}, "Accept": {"*/*"}},
		Body: []byte{}}
	addr, tlsName, wire, err := buildRequest(req)
	want := "POST /v1/token?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: broker-bench\r\n" +
		"Accept: */*\r\nAuthorization: Bearer rt\r\nContent-Type: application/json\r\n" +
		"X-B: 1\r\nX-B: 2\r\nContent-Length: 0\r\n\r\n"
	if err != nil || addr != "127.0.0.1:8080" || tlsName != "" || string(wire) != want {
		t.Errorf("buildRequest = %q, %q, %q, %v; want %q", addr, tlsName, wire, err, want)
	}
}

// TestBuildRequestRefusesAHeaderNameWithASeparator checks that a header name holding a
// colon or a space is refused, as it would smuggle another header name or value onto the wire.
// Guards against: httpdriver.go:buildRequest ": " dropped from the characters refused in a name
func TestBuildRequestRefusesAHeaderNameWithASeparator(t *testing.T) {
	for _, name := range []string{"X-Run: admin", "X-Run:admin", "X Run"} {
		req := HTTPRequest{Method: http.MethodGet, URL: "http://127.0.0.1:8080/",
			Header: http.Header{name: {"v"}}}
		if _, _, wire, err := buildRequest(req); err == nil {
			t.Errorf("header name %q accepted: %q", name, wire)
		}
	}
}
