package headerror

import "testing"

// TestRewriteLeavesOtherBytes: only an answer whose status line net/http's refusal headers
// follow is rewritten; a handler's answer (which carries Date), a body holding those headers,
// a write not starting an answer, and an unknown status pass unchanged.
func TestRewriteLeavesOtherBytes(t *testing.T) {
	for _, b := range []string{
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nDate: Mon, 07 Dec 2026 13:00:00 GMT\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 13:00:00 GMT\r\nContent-Length: 70\r\n\r\n" + netHTTPErrorHeaders,
		"400 Bad Request" + netHTTPErrorHeaders,
		"HTTP/1.1 418 I'm a teapot" + netHTTPErrorHeaders + "418",
		"HTTP/1.1 4x0 Bad" + netHTTPErrorHeaders,
		"HTTP/1.1 40",
		"",
	} {
		if got, ok := rewrite([]byte(b)); ok {
			t.Errorf("rewrite(%q) = %q, want it left alone", b, got)
		}
	}
}
