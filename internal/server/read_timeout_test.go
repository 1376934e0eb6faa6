package server

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestPlainRequestBodyBoundedByReadTimeout: on plain HTTP, a request whose head arrived but
// whose body stops short is cut off once http.read_timeout has passed since the request began,
// rather than holding its connection open for as long as the client likes.
// Guards against: server.go:Serve http.Server built without ReadTimeout
func TestPlainRequestBodyBoundedByReadTimeout(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: "\nhttp: {read_timeout: 300ms}\n"})
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(ts.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	head := "POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		"Content-Length: 100\r\n\r\n{"
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("a request whose body stopped short still holds its connection 5s after a " +
			"300ms read_timeout")
	}
}

// TestPlainIdleConnectionBoundedByIdleTimeout: on plain HTTP, a keep-alive connection left
// idle after its answer is closed once http.idle_timeout has passed, however long
// http.read_timeout is.
// Guards against: server.go:Serve http.Server built without IdleTimeout (read_timeout used)
// Guards against: server.go:Serve fastpath.Config without IdleTimeout
func TestPlainIdleConnectionBoundedByIdleTimeout(t *testing.T) {
	ts := startServer(t, serverOptions{
		extraYAML: "\nhttp: {idle_timeout: 300ms, read_timeout: 30s}\n"})
	// The discovery document is answered on the fast path, the others by net/http.
	for _, path := range []string{
		"/.well-known/openid-configuration", "/healthz", "/v1/runs/none",
	} {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(ts.URL, "http://"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		answer, err := io.ReadAll(c)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("GET %s: the idle connection is still open 5s after a 300ms idle_timeout "+
				"(read %q)", path, answer)
		}
	}
}
