package server

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestCertificateValidityToleratesSkew pins the clock-skew tolerance of a serving certificate on
// both ends of its validity: a certificate is presented from a minute before its NotBefore (a
// replica whose clock runs behind its issuer's) to a minute after its NotAfter, and refused outside
// that.
// Guards against: tls.go:checkValidity now.Add(MaxClockSkew).Before(notBefore) ->
// now.Before(notBefore)
// Guards against: tls.go:checkValidity now.Add(MaxClockSkew) -> now.Add(-MaxClockSkew) on the
// NotBefore side
func TestCertificateValidityToleratesSkew(t *testing.T) {
	notBefore := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	notAfter := notBefore.Add(2 * time.Hour)
	for _, tc := range []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"two minutes before NotBefore", notBefore.Add(-2 * time.Minute), false},
		{"30s before NotBefore (within skew)", notBefore.Add(-30 * time.Second), true},
		{"30s after NotBefore", notBefore.Add(30 * time.Second), true},
		{"30s before NotAfter", notAfter.Add(-30 * time.Second), true},
		{"30s after NotAfter (within skew)", notAfter.Add(30 * time.Second), true},
		{"two minutes after NotAfter", notAfter.Add(2 * time.Minute), false},
	} {
		err := checkValidity(notBefore, notAfter, tc.now)
		if (err == nil) != tc.ok {
			t.Errorf("%s: checkValidity = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestTLSHeadBoundedByReadHeaderTimeout: on the TLS listener a client that completes the
// handshake and then sends a request head slowly (never its end) is cut off once
// http.read_header_timeout passes, not only after the longer http.read_timeout: a slow client
// cannot hold a connection for the whole read timeout.
// Guards against: server.go:Serve ReadHeaderTimeout: h.ReadHeaderTimeout dropped from http.Server
func TestTLSHeadBoundedByReadHeaderTimeout(t *testing.T) {
	certFile, keyFile, cert := writeServingCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := tlsConfig(t, ln.Addr().String(), certFile, keyFile)
	cfg.HTTP.ReadHeaderTimeout = 300 * time.Millisecond
	cfg.HTTP.ReadTimeout = 30 * time.Second
	pool := serveTLS(t, cfg, ln, cert)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("a TLS connection with an unfinished request head is still open 3s after a 300ms read_header_timeout")
	}
}
