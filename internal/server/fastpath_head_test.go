package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/issuer"
)

// TestHeadOnFastPathKeepsFraming sends HEAD then GET of the JWKS pipelined on one
// kept-alive connection to the plain listener (the fast path). A HEAD answer carries no body, so
// the second answer must start right after the first one's head: a body written after the HEAD
// answer would be read as the next answer's status line (response desync on a shared upstream
// connection).
func TestHeadOnFastPathKeepsFraming(t *testing.T) {
	ts := startServer(t, serverOptions{})
	host := strings.TrimPrefix(ts.URL, "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	req := "HEAD " + issuer.JWKSPath + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n" +
		"GET " + issuer.JWKSPath + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	head, err := http.ReadResponse(br, &http.Request{Method: http.MethodHead})
	if err != nil {
		t.Fatalf("HEAD answer: %v", err)
	}
	_ = head.Body.Close()
	get, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatalf("GET answer after a HEAD on the same connection: %v", err)
	}
	body, _ := io.ReadAll(get.Body)
	if get.StatusCode != 200 || !strings.HasPrefix(string(body), `{"keys":`) {
		t.Fatalf("GET after HEAD: %d %q", get.StatusCode, body)
	}
}
