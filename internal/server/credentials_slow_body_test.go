package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCredentialsSlowBodyStillAnsweredBeforeWriteTimeout checks that an exchange is cut short in
// time to be answered within http.write_timeout counted from the end of the request's head, as
// net/http counts it, also when the body comes late: a body sent 1 s after its head
// (write_timeout 2s, an upstream that never answers) gets 502 in the envelope, with a
// Content-Length body and a chunked one, not a connection closed with no answer.
func TestCredentialsSlowBodyStillAnsweredBeforeWriteTimeout(t *testing.T) {
	ts, run := hungUpstreamServer(t)
	body := `{"provider":"vault"}`
	for _, tc := range []struct {
		name, framing, body string
	}{
		{"content-length", fmt.Sprintf("Content-Length: %d", len(body)), body},
		{"chunked", "Transfer-Encoding: chunked", fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := "POST /v1/credentials HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
				run.RunToken + "\r\nContent-Type: application/json\r\n" + tc.framing + "\r\n\r\n"
			sendSlowBody(t, ts, head, tc.body)
		})
	}
}

// sendSlowBody sends head, then body a second later, and expects the 502 envelope.
func sendSlowBody(t *testing.T, ts *testServer, head, body string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, head)
	time.Sleep(time.Second)
	_, _ = io.WriteString(c, body)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a credentials request whose body came 1s late: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d (%s), want 502 upstream_error", resp.StatusCode, raw)
	}
	assertEnvelope(t, resp.StatusCode, raw)
}
