package server

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHealthProbesStayOnTheFastPath: a load balancer's connection asking for /healthz and
// /readyz gets the health answers on the plain-HTTP listener without being handed to
// net/http, which would hold its read and write buffers for as long as it idles; a HEAD of
// /healthz is still answered (by net/http).
// Guards against: server.go:Serve not giving api.HealthPaths to fastpath.Config.Gets.
func TestHealthProbesStayOnTheFastPath(t *testing.T) {
	ts := startServer(t, serverOptions{quiet: true})
	before := netHTTPConns()
	c := dialServer(t, ts)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for range 2 {
		for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`} {
			if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: h\r\nUser-Agent: kube-probe/1.31\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || resp.Close || !strings.Contains(string(body), want) || resp.Header.Get("X-Request-Id") == "" {
				t.Fatalf("GET %s: %d, close %v, %s; want 200 kept alive with %s and a request id", path, resp.StatusCode, resp.Close, body, want)
			}
		}
	}
	time.Sleep(50 * time.Millisecond) // a connection handed over would be net/http's by now
	if n := netHTTPConns(); n > before {
		t.Fatalf("%d connections of net/http's after health probes on one connection, %d before: the probes' connection went to net/http", n, before)
	}
	if _, err := io.WriteString(c, "HEAD /healthz HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: "HEAD"})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD /healthz: %v, %v", resp, err)
	}
}
