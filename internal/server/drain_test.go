package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/issuer"
)

// drainTarget is a replica whose drain a test watches: dial opens a connection to it (TLS or
// not), and stop asks it to stop and returns when Serve has returned.
type drainTarget struct {
	dial func() (net.Conn, error)
	stop func()
}

// drainTargets are a plain-HTTP replica (public documents on the fast path) and a TLS one, each
// with an http.shutdown_timeout of 3s.
func drainTargets(t *testing.T) map[string]func(t *testing.T) drainTarget {
	return map[string]func(t *testing.T) drainTarget{
		"plain": func(t *testing.T) drainTarget {
			ts := startServer(t, serverOptions{quiet: true, extraYAML: "\nhttp: {shutdown_timeout: 3s}\n"})
			addr := strings.TrimPrefix(ts.URL, "http://")
			return drainTarget{dial: func() (net.Conn, error) { return net.Dial("tcp", addr) }, stop: ts.stop}
		},
		"tls": func(t *testing.T) drainTarget {
			certFile, keyFile, cert := writeServingCert(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cfg := tlsConfig(t, ln.Addr().String(), certFile, keyFile)
			cfg.HTTP.ShutdownTimeout = 3 * time.Second
			ctx, cancel := context.WithCancel(context.Background())
			srv, err := New(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				cancel()
				t.Fatalf("New: %v", err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, ln) }()
			stopped := false
			stop := func() {
				if !stopped {
					stopped = true
					cancel()
					if err := <-done; err != nil {
						t.Errorf("Serve: %v", err)
					}
					_ = srv.Close()
				}
			}
			t.Cleanup(stop)
			pool := x509.NewCertPool()
			pool.AddCert(cert)
			tc := &tls.Config{ServerName: "127.0.0.1", RootCAs: pool}
			addr := ln.Addr().String()
			return drainTarget{dial: func() (net.Conn, error) { return tls.Dial("tcp", addr, tc) }, stop: stop}
		},
	}
}

// netHTTPConns counts the goroutines serving a connection of net/http's in this process.
func netHTTPConns() int {
	buf := make([]byte, 1<<20)
	return bytes.Count(buf[:runtime.Stack(buf, true)], []byte("net/http.(*conn).serve("))
}

// waitNetHTTPConns waits until net/http serves at least n connections in this process, and
// fails t after 2s.
func waitNetHTTPConns(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); netHTTPConns() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("net/http serves %d connections after 2s, want %d", netHTTPConns(), n)
		}
	}
}

// drainExchange sends raw, one request, on a new connection to d and reads its answer.
func drainExchange(t *testing.T, d drainTarget, raw string) (*http.Response, []byte, error) {
	t.Helper()
	c, err := d.dial()
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		return nil, nil, err
	}
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// TestDrainKeepsPublicDocumentsServedUntilExit: while a stopping replica waits for a request in
// flight, its port stays open: a new connection gets the JWKS and discovery (on the fast path,
// and through net/http for a request the fast path does not take), each answer closing its
// connection, and any other request 503 in the error envelope, until Serve returns, when the
// port is closed. A load balancer that still routes to a terminating pod (the chart's public
// Service) must not meet a refused connection while the pod is alive.
func TestDrainKeepsPublicDocumentsServedUntilExit(t *testing.T) {
	for name, start := range drainTargets(t) {
		t.Run(name, func(t *testing.T) {
			d := start(t)
			before := netHTTPConns()
			hang, err := d.dial()
			if err != nil {
				t.Fatal(err)
			}
			defer hang.Close()
			// Headers promise a body that never comes: the request stays in flight until
			// shutdown_timeout, once net/http has it (the fast path hands it over).
			_, _ = io.WriteString(hang, "POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+adminSecret+
				"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"stack\":")
			waitNetHTTPConns(t, before+1)
			probe := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
			if resp, _, err := drainExchange(t, d, probe); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("healthz before the stop: %v %v", resp, err)
			}
			stopped := make(chan struct{})
			go func() { d.stop(); close(stopped) }()
			deadline := time.Now().Add(2 * time.Second)
			for {
				resp, _, err := drainExchange(t, d, probe)
				if err != nil {
					t.Fatalf("a new connection during the drain: %v", err)
				}
				if resp.StatusCode == http.StatusServiceUnavailable {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the drain did not begin within 2s of the stop")
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, tc := range []struct {
				name, raw string
				status    int
				code      string
			}{
				{"JWKS", "GET " + issuer.JWKSPath + " HTTP/1.1\r\nHost: x\r\n\r\n", 200, ""},
				{"discovery", "GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n", 200, ""},
				{"JWKS with a query (net/http)", "GET " + issuer.JWKSPath + "?v=1 HTTP/1.1\r\nHost: x\r\n\r\n", 200, ""},
				{"HEAD of the JWKS", "HEAD " + issuer.JWKSPath + " HTTP/1.1\r\nHost: x\r\n\r\n", 200, ""},
				{"token", "POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 503, "unavailable"},
				{"POST to the JWKS", "POST " + issuer.JWKSPath + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 503, "unavailable"},
			} {
				resp, body, err := drainExchange(t, d, tc.raw)
				if err != nil {
					t.Errorf("%s during the drain: %v", tc.name, err)
					continue
				}
				if resp.StatusCode != tc.status || !resp.Close {
					t.Errorf("%s during the drain: %d, close %v; want %d closing the connection", tc.name, resp.StatusCode, resp.Close, tc.status)
				}
				if tc.code != "" {
					var env struct {
						Error struct{ Code string } `json:"error"`
					}
					if err := json.Unmarshal(body, &env); err != nil || env.Error.Code != tc.code {
						t.Errorf("%s during the drain: body %q, want the envelope with code %q", tc.name, body, tc.code)
					}
				}
			}
			select {
			case <-stopped:
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return within 10s of a 3s shutdown_timeout")
			}
			if c, err := d.dial(); err == nil {
				c.Close()
				t.Error("the port still accepts connections after Serve returned")
			}
		})
	}
}
