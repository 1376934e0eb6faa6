package server

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestFileKeySecretInPathWhileDrainingIsCut: while a replica drains, every request but the
// public documents is answered by Front.Draining, not the Router; the access line of its 503
// still carries a file-declared key's secret pasted in the path cut.
// Guards against: server.go:New not giving PublicConfig the router's CutPath
func TestFileKeySecretInPathWhileDrainingIsCut(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures + "\nhttp: {shutdown_timeout: 2s}\n"})
	addr := strings.TrimPrefix(ts.URL, "http://")
	d := drainTarget{dial: func() (net.Conn, error) { return net.Dial("tcp", addr) }, stop: ts.stop}
	hang, err := d.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	// A request in flight keeps the drain going.
	_, _ = io.WriteString(hang, "POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+
		rootAdminSecret+"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	time.Sleep(200 * time.Millisecond)
	stopped := make(chan struct{})
	go func() { d.stop(); close(stopped) }()
	deadline := time.Now().Add(2 * time.Second)
	for {
		resp, _, err := drainExchange(t, d, "GET /v1/runs/"+rootAdminSecret+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if err == nil && resp.StatusCode == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the drain did not begin within 2s of the stop")
		}
		time.Sleep(20 * time.Millisecond)
	}
	hang.Close()
	<-stopped
	for _, line := range strings.Split(ts.Logs.String(), "\n") {
		if strings.Contains(line, rootAdminSecret) {
			t.Errorf("a log line carries the API key's secret: %s", line)
		}
	}
}
