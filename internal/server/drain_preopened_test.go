package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/issuer"
)

// askOn writes raw on the open connection c and reads the one answer.
func askOn(c net.Conn, raw string) (*http.Response, error) {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp, nil
}

// TestDrainAnswersOnConnectionOpenedBeforeStop: once the drain began, the JWKS is served
// and any other request answered 503 unavailable (README: "until it exits the port stays open,
// answering discovery and the JWKS and any other request 503"), on a connection the client
// opened before the stop and sent nothing on yet as on a new one, with TLS as without: no
// request sent during the drain meets a connection closed without an answer.
func TestDrainAnswersOnConnectionOpenedBeforeStop(t *testing.T) {
	asks := []struct {
		name, raw string
		status    int
	}{
		{"healthz", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusServiceUnavailable},
		{"JWKS", "GET " + issuer.JWKSPath + " HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusOK},
	}
	for name, start := range drainTargets(t) {
		t.Run(name, func(t *testing.T) {
			d := start(t)
			hang, err := d.dial()
			if err != nil {
				t.Fatal(err)
			}
			defer hang.Close()
			// A request in flight until shutdown_timeout keeps the drain going.
			_, _ = io.WriteString(hang, "POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+
				adminSecret+"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
			early := make([]net.Conn, len(asks)) // opened (with TLS, handshaken) before the stop
			for i := range early {
				if early[i], err = d.dial(); err != nil {
					t.Fatal(err)
				}
				defer early[i].Close()
			}
			time.Sleep(200 * time.Millisecond)
			stopped := make(chan struct{})
			go func() { d.stop(); close(stopped) }()
			defer func() { <-stopped }()
			deadline := time.Now().Add(2 * time.Second)
			for {
				resp, _, err := drainExchange(t, d, asks[0].raw)
				if err == nil && resp.StatusCode == http.StatusServiceUnavailable {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the drain did not begin within 2s of the stop")
				}
				time.Sleep(20 * time.Millisecond)
			}
			for i, a := range asks {
				resp, err := askOn(early[i], a.raw)
				if err != nil {
					t.Errorf("%s sent during the drain on a connection opened before it: "+
						"no answer (%v), want %d as on a new connection", a.name, err, a.status)
					continue
				}
				if resp.StatusCode != a.status {
					t.Errorf("%s sent during the drain on a connection opened before it: %d, want %d",
						a.name, resp.StatusCode, a.status)
				}
			}
		})
	}
}
