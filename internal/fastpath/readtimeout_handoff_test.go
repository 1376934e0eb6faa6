package fastpath

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveReadingBodies serves a handler that reads the whole body behind ln (fronted by the fast path
// when fast is non-nil), with read_header_timeout 3s and read_timeout 1s, and returns its
// address.
func serveReadingBodies(t *testing.T, ln net.Listener, fast *Listener) string {
	t.Helper()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := io.ReadAll(r.Body)
			if err != nil {
				_, _ = io.WriteString(w, "body cut")
				return
			}
			_, _ = io.WriteString(w, "body read")
		}),
		ReadHeaderTimeout: 3 * time.Second, ReadTimeout: time.Second,
	}
	var serveOn net.Listener = ln
	if fast != nil {
		serveOn = fast
	}
	go func() { _ = srv.Serve(serveOn) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// slowHeadBodyWait sends a GET with a body whose head takes about 1.6s to arrive, then part of
// the body, and returns how long the server took, after the head, to answer or close.
func slowHeadBodyWait(t *testing.T, addr string) time.Duration {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	for _, part := range []string{
		"GET /doc HTTP/1.1\r\n", "Host: h\r\n", "X-A: 1\r\n", "X-B: 2\r\n",
		"Content-Length: 10\r\n",
	} {
		if _, err := io.WriteString(c, part); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
	}
	if _, err := io.WriteString(c, "\r\nab"); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	_, _ = c.Read(make([]byte, 1))
	return time.Since(sent)
}

// TestReadTimeoutCountsFromTheRequestsStart: http.Server's ReadTimeout bounds the whole
// request from its start, so a request whose head took longer than read_timeout gets no more
// time for its body. Behind the fast path (whose Config says its timeouts mean what
// http.Server's do) the same request must not get a fresh read_timeout for its body once the
// fast path hands it over.
func TestReadTimeoutCountsFromTheRequestsStart(t *testing.T) {
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	plain := serveReadingBodies(t, plainLn, nil)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fast := Listen(inner, Config{Handler: docFast{}, ReadHeaderTimeout: 3 * time.Second,
		ReadTimeout: time.Second})
	fronted := serveReadingBodies(t, inner, fast)
	alone := slowHeadBodyWait(t, plain)
	behind := slowHeadBodyWait(t, fronted)
	if behind > alone+500*time.Millisecond {
		t.Errorf("the body of a request whose head took 2s waited %v behind the fast path, "+
			"%v with net/http alone (read_timeout 1s)", behind.Round(time.Millisecond),
			alone.Round(time.Millisecond))
	}
}
