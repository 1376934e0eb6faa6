package server

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/issuer"
)

// TestFastPathAnswersHeldToWriteTimeout: a client that pipelines public-document requests and
// never reads its answers is cut off once an answer has waited http.write_timeout to be written
// (the fast path answers these documents, so it holds to the timeout as net/http does): its
// writes then fail. Without the timeout the answer's write, and the connection, wait for good.
func TestFastPathAnswersHeldToWriteTimeout(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: "\nhttp: {write_timeout: 200ms}\n"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := []byte("GET " + issuer.JWKSPath + " HTTP/1.1\r\nHost: broker\r\n\r\n")
	cut := make(chan error, 1)
	go func() {
		for {
			if _, err := conn.Write(req); err != nil {
				cut <- err
				return
			}
		}
	}()
	select {
	case err := <-cut:
		if errors.Is(err, net.ErrClosed) {
			t.Fatalf("the test closed the connection itself: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a client that reads no answer is still connected 30s after http.write_timeout (200ms)")
	}
}
