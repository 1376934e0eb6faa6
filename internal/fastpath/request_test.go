package fastpath

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const ok = "GET /.well-known/jwks HTTP/1.1\r\nHost: broker.example.com\r\nUser-Agent: t\r\n\r\n"
	tests := []struct {
		name string
		head string
		want bool
		// for accepted heads
		head2      bool
		path       string
		inm, reqID string
		inmPresent bool
		idPresent  bool
	}{
		{name: "plain GET", head: ok, want: true, path: "/.well-known/jwks"},
		{name: "HEAD", head: "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n", want: true, head2: true, path: "/a"},
		{name: "If-None-Match and X-Request-Id, any case, spaces trimmed", want: true, path: "/a",
			head: "GET /a HTTP/1.1\r\nhOsT: h:8080\r\nif-none-match:  \"x\", W/\"y\" \t\r\nX-REQUEST-ID: abc\r\n\r\n",
			inm:  `"x", W/"y"`, inmPresent: true, reqID: "abc", idPresent: true},
		{name: "empty If-None-Match is present", want: true, path: "/a",
			head: "GET /a HTTP/1.1\r\nHost: h\r\nIf-None-Match:\r\n\r\n", inmPresent: true},
		{name: "Connection: keep-alive", want: true, path: "/a",
			head: "GET /a HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive\r\n\r\n"},
		{name: "IPv6 host", want: true, path: "/a", head: "GET /a HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"},

		{name: "POST", head: "POST /a HTTP/1.1\r\nHost: h\r\n\r\n"},
		{name: "lower-case method", head: "get /a HTTP/1.1\r\nHost: h\r\n\r\n"},
		{name: "OPTIONS", head: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"},
		{name: "HTTP/1.0", head: "GET /a HTTP/1.0\r\nHost: h\r\n\r\n"},
		{name: "HTTP/2 preface", head: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{name: "query", head: "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"},
		{name: "percent-encoded path", head: "GET /%61 HTTP/1.1\r\nHost: h\r\n\r\n"},
		{name: "absolute form", head: "GET http://h/a HTTP/1.1\r\nHost: h\r\n\r\n"},
		{name: "two spaces in request line", head: "GET  /a HTTP/1.1\r\nHost: h\r\n\r\n"},
		{name: "trailing text after version", head: "GET /a HTTP/1.1 x\r\nHost: h\r\n\r\n"},
		{name: "no Host", head: "GET /a HTTP/1.1\r\nAccept: */*\r\n\r\n"},
		{name: "two Hosts", head: "GET /a HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n"},
		{name: "empty Host", head: "GET /a HTTP/1.1\r\nHost:\r\n\r\n"},
		{name: "Host with a slash", head: "GET /a HTTP/1.1\r\nHost: h/x\r\n\r\n"},
		{name: "Content-Length", head: "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"},
		{name: "Transfer-Encoding", head: "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{name: "Expect", head: "GET /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n"},
		{name: "Upgrade", head: "GET /a HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"},
		{name: "Connection: close", head: "GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{name: "Connection: upgrade", head: "GET /a HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n"},
		{name: "two If-None-Match", head: "GET /a HTTP/1.1\r\nHost: h\r\nIf-None-Match: a\r\nIf-None-Match: b\r\n\r\n"},
		{name: "two X-Request-Id", head: "GET /a HTTP/1.1\r\nHost: h\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n\r\n"},
		{name: "space before colon", head: "GET /a HTTP/1.1\r\nHost : h\r\n\r\n"},
		{name: "folded header", head: "GET /a HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n"},
		{name: "line without colon", head: "GET /a HTTP/1.1\r\nHost: h\r\nnonsense\r\n\r\n"},
		{name: "control byte in value", head: "GET /a HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n"},
		{name: "bare CR in value", head: "GET /a HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n"},
		{name: "non-ASCII value", head: "GET /a HTTP/1.1\r\nHost: h\r\nX-A: caf\xc3\xa9\r\n\r\n"},
		{name: "bare LF line ends", head: "GET /a HTTP/1.1\nHost: h\n\n"},
		{name: "leading blank line", head: "\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n"},
		{name: "empty", head: "\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req Request
			got := parse([]byte(tc.head), &req, nil)
			if got != tc.want {
				t.Fatalf("parse(%q) = %v, want %v", tc.head, got, tc.want)
			}
			if !got {
				return
			}
			if req.Head != tc.head2 || string(req.Path) != tc.path {
				t.Errorf("Head %v, Path %q; want %v, %q", req.Head, req.Path, tc.head2, tc.path)
			}
			if (req.IfNoneMatch != nil) != tc.inmPresent || string(req.IfNoneMatch) != tc.inm {
				t.Errorf("IfNoneMatch %q (present %v), want %q (present %v)", req.IfNoneMatch, req.IfNoneMatch != nil, tc.inm, tc.inmPresent)
			}
			if (req.RequestID != nil) != tc.idPresent || string(req.RequestID) != tc.reqID {
				t.Errorf("RequestID %q (present %v), want %q (present %v)", req.RequestID, req.RequestID != nil, tc.reqID, tc.idPresent)
			}
		})
	}
}

// FuzzParse checks that parse never panics and accepts only heads whose every line ends in
// CRLF and whose request line is GET or HEAD of a plain path over HTTP/1.1.
func FuzzParse(f *testing.F) {
	f.Add("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
	f.Add("HEAD /.well-known/jwks HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n")
	f.Fuzz(func(t *testing.T, head string) {
		var req Request
		if !parse([]byte(head), &req, nil) {
			return
		}
		if !strings.HasSuffix(head, "\r\n\r\n") || strings.Count(head, "\n") != strings.Count(head, "\r\n") {
			t.Fatalf("accepted %q, whose lines do not all end in CRLF", head)
		}
		first, _, _ := strings.Cut(head, "\r\n")
		if first != "GET "+string(req.Path)+" HTTP/1.1" && first != "HEAD "+string(req.Path)+" HTTP/1.1" {
			t.Fatalf("accepted request line %q as path %q", first, req.Path)
		}
		if strings.ContainsAny(string(req.Path), "?%# \t") {
			t.Fatalf("accepted path %q", req.Path)
		}
	})
}
