package fastpath

import "testing"

// TestParseRefusesBytesAfterTheBlankLine pins that parse takes a head only when it ends at
// its blank line: bytes after it (a body or a pipelined request glued on) leave it to net/http.
// Guards against: `len(rest) == 0` dropped in request.go:parse
func TestParseRefusesBytesAfterTheBlankLine(t *testing.T) {
	var req Request
	if !parse([]byte("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"), &req, nil) {
		t.Fatal("a plain head is refused")
	}
	if parse([]byte("GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET"), &req, nil) {
		t.Error("a head followed by more bytes is taken")
	}
}
