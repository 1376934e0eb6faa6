package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/issuer"
)

// dialServer opens a raw connection to the plain-HTTP listener of ts.
func dialServer(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedWithin reports whether the server closes c within d, reading and dropping what
// it still sends.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// fastGET sends a GET of the JWKS on c, which the fast path answers, and reads the
// answer, leaving c kept alive.
func fastGET(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+issuer.JWKSPath+" HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("GET of the JWKS: %d, close %v; want 200 kept alive", resp.StatusCode, resp.Close)
	}
}

// TestPlainHeadBoundedByReadHeaderTimeout pins that on the plain-HTTP listener, where the
// fast path reads heads first, a client that sends part of a head and stops is cut off once
// http.read_header_timeout passes, not only after the longer http.read_timeout.
// Guards against: ReadHeaderTimeout not passed to fastpath.Config in server.go:Serve
func TestPlainHeadBoundedByReadHeaderTimeout(t *testing.T) {
	ts := startServer(t, serverOptions{quiet: true, extraYAML: "\nhttp: {read_header_timeout: 300ms, read_timeout: 30s}\n"})
	c := dialServer(t, ts)
	if _, err := io.WriteString(c, "GET "+issuer.JWKSPath+" HTTP/1.1\r\nHo"); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(c, 3*time.Second) {
		t.Error("a partial head held the connection open past read_header_timeout")
	}
}

// TestPlainKeptAliveBoundedByIdleTimeout pins that a connection kept alive after a fast
// path answer is closed once http.idle_timeout passes without a next request, not only after
// http.read_timeout.
// Guards against: IdleTimeout not passed to fastpath.Config in server.go:Serve
func TestPlainKeptAliveBoundedByIdleTimeout(t *testing.T) {
	ts := startServer(t, serverOptions{quiet: true, extraYAML: "\nhttp: {idle_timeout: 300ms, read_timeout: 30s}\n"})
	c := dialServer(t, ts)
	fastGET(t, c, bufio.NewReader(c))
	if !closedWithin(c, 3*time.Second) {
		t.Error("an idle kept-alive connection outlived idle_timeout")
	}
}

// TestStopClosesIdleFastPathConnections pins that stopping the replica closes the idle
// kept-alive connections the fast path served, as it closes net/http's, instead of leaving
// them open after Serve returned.
// Guards against: fast.Shutdown not called in server.go:Serve
func TestStopClosesIdleFastPathConnections(t *testing.T) {
	ts := startServer(t, serverOptions{quiet: true})
	c := dialServer(t, ts)
	fastGET(t, c, bufio.NewReader(c))
	ts.stop()
	if !closedWithin(c, 2*time.Second) {
		t.Error("an idle fast-path connection is still open after the replica stopped")
	}
}
