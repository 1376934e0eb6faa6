package server

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHeadRefusalsAnswerInTheEnvelope: errors are always in the envelope, bad input always a 4xx,
// including the request heads net/http refuses itself before any handler runs (headers past
// 64 KiB, a header line without a colon, a Content-Length not a number, a Transfer-Encoding it
// does not implement, an Expect other than 100-continue), through the fast path's hand-off.
// Guards against: server.go Serve without headerror.Listen (net/http's plain-text 400 and 431,
// a 501 for a client's Transfer-Encoding, an empty 417 for its Expect).
func TestHeadRefusalsAnswerInTheEnvelope(t *testing.T) {
	ts := startServer(t, serverOptions{})
	addr := strings.TrimPrefix(ts.URL, "http://")
	for _, tc := range []struct{ name, head string }{
		{"oversized headers", "POST /v1/token HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("a", 200<<10) + "\r\n\r\n"},
		{"malformed header line", "GET /v1/audit HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\n\r\n"},
		{"bad Content-Length", "POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n"},
		{"unknown Transfer-Encoding", "POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"},
		{"an Expect other than 100-continue", "POST /v1/token HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			go func() { _, _ = io.WriteString(c, tc.head) }()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var env struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("status %d for bad client input, want a 4xx", resp.StatusCode)
			}
			if err := json.Unmarshal(body, &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
				t.Errorf("%d answered outside the error envelope (Content-Type %q): %q",
					resp.StatusCode, resp.Header.Get("Content-Type"), string(body[:min(len(body), 120)]))
			}
		})
	}
}
