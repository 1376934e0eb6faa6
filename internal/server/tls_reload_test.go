package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"testing"
	"time"
)

// servingPair is a self-signed certificate for 127.0.0.1 and its key, as PEM.
type servingPair struct {
	certPEM, keyPEM []byte
	cert            *x509.Certificate
}

func newServingPair(t *testing.T, serial int64) servingPair {
	t.Helper()
	return newServingPairValid(t, serial, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// newServingPairValid is newServingPair valid from notBefore to notAfter.
func newServingPairValid(t *testing.T, serial int64, notBefore, notAfter time.Time) servingPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "broker test"},
		NotBefore: notBefore, NotAfter: notAfter,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return servingPair{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		cert:    cert,
	}
}

// install writes the certificate (mode 0644) and the key (keyMode) over the files.
func (p servingPair) install(t *testing.T, certFile, keyFile string, keyMode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(certFile, p.certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, p.keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyFile, keyMode); err != nil {
		t.Fatal(err)
	}
}

// TestTLSCertificateReload: a reload (what SIGHUP runs) makes new handshakes present the
// re-read certificate while a keep-alive connection opened before it keeps working on its
// session; a new pair that fails the start-up rules (a key that does not match the
// certificate, a key file others may read, a certificate expired or not yet valid) is refused,
// logged and audited, and the certificate in force stays.
func TestTLSCertificateReload(t *testing.T) {
	first, second := newServingPair(t, 1), newServingPair(t, 2)
	certFile, keyFile, _ := writeServingCert(t)
	first.install(t, certFile, keyFile, 0o600)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := tlsConfig(t, addr, certFile, keyFile)
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := New(ctx, cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		_ = srv.Close()
	}()

	pool := x509.NewCertPool()
	pool.AddCert(first.cert)
	pool.AddCert(second.cert)
	newClient := func() *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute,
		}}
	}
	// get fetches /healthz and returns the serial the server presented and whether the
	// request went over a connection opened earlier.
	get := func(t *testing.T, c *http.Client) (serial int64, reused bool) {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "GET", "https://"+addr+"/healthz", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET /healthz: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz: %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), reused
	}

	kept := newClient()
	if serial, _ := get(t, kept); serial != 1 {
		t.Fatalf("before the reload the server presents serial %d, want 1", serial)
	}

	second.install(t, certFile, keyFile, 0o600)
	if err := srv.Reload(ctx, cfg, nil); err != nil {
		t.Fatalf("Reload with a valid new pair: %v", err)
	}
	if serial, reused := get(t, kept); !reused || serial != 1 {
		t.Errorf("the keep-alive connection opened before the reload: reused %v, serial %d; want reused on its session (serial 1)", reused, serial)
	}
	if serial, _ := get(t, newClient()); serial != 2 {
		t.Errorf("a handshake after the reload presents serial %d, want the re-read certificate (2)", serial)
	}

	// A bad new pair is refused whole; handshakes keep presenting serial 2.
	third := newServingPair(t, 3)
	for _, tc := range []struct {
		name    string
		install func()
		want    string
	}{
		{"a key that does not match the certificate", func() {
			servingPair{certPEM: third.certPEM, keyPEM: second.keyPEM}.install(t, certFile, keyFile, 0o600)
		}, "private key does not match public key"},
		{"a key file others may read", func() { third.install(t, certFile, keyFile, 0o644) }, "has mode 0644"},
		{"an expired certificate", func() {
			newServingPairValid(t, 4, time.Now().Add(-48*time.Hour), time.Now().Add(-2*time.Minute)).install(t, certFile, keyFile, 0o600)
		}, "the certificate expired at"},
		{"a certificate not yet valid", func() {
			newServingPairValid(t, 5, time.Now().Add(2*time.Minute), time.Now().Add(48*time.Hour)).install(t, certFile, keyFile, 0o600)
		}, "the certificate is not valid before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.install()
			err := srv.Reload(ctx, cfg, nil)
			if err == nil || !strings.Contains(err.Error(), "tls certificate reload refused") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Reload = %v, want a refusal saying %q", err, tc.want)
			}
			if serial, _ := get(t, newClient()); serial != 2 {
				t.Errorf("after a refused reload a handshake presents serial %d, want the certificate in force (2)", serial)
			}
			if _, reused := get(t, kept); !reused {
				t.Error("the keep-alive connection was dropped by a refused reload")
			}
		})
	}

	events, _, err := srv.state.audit.List(ctx, "root", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var reloaded, refused int
	for _, e := range events {
		if e.Action != "config.reload" || !strings.HasPrefix(e.Detail, "tls certificate reload") {
			continue
		}
		if strings.Contains(e.Detail, "PRIVATE KEY") {
			t.Errorf("an audit event quotes the key: %s", e.Detail)
		}
		switch e.Outcome {
		case "success":
			reloaded++
		case "denied":
			refused++
		}
	}
	if reloaded != 1 || refused != 4 {
		t.Errorf("tls config.reload events: %d success, %d denied; want 1 and 4:\n%v", reloaded, refused, events)
	}
	if l := logs.String(); !strings.Contains(l, "tls certificate reloaded") || !strings.Contains(l, "tls certificate reload refused") || strings.Contains(l, "PRIVATE KEY") {
		t.Errorf("the reloads are not logged as expected (or the key is):\n%s", l)
	}
}

// TestTLSCertificateOutsideValidityRefusedAtStart: a replica does not start presenting a
// certificate its clock finds expired or not yet valid (beyond a minute of skew), and the error
// names the file and the date.
func TestTLSCertificateOutsideValidityRefusedAtStart(t *testing.T) {
	pair := newServingPair(t, 1) // valid from an hour ago to an hour ahead
	for _, tc := range []struct {
		name string
		now  time.Time
		want string // empty: New succeeds
	}{
		{"within its validity", time.Now(), ""},
		{"within a minute of skew after it expired", pair.cert.NotAfter.Add(50 * time.Second), ""},
		{"after it expired", pair.cert.NotAfter.Add(2 * time.Minute), "the certificate expired at " + pair.cert.NotAfter.UTC().Format(time.RFC3339)},
		{"before it is valid", pair.cert.NotBefore.Add(-2 * time.Minute), "the certificate is not valid before " + pair.cert.NotBefore.UTC().Format(time.RFC3339)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certFile, keyFile, _ := writeServingCert(t)
			pair.install(t, certFile, keyFile, 0o600)
			now := tc.now
			srv, err := New(context.Background(), tlsConfig(t, "127.0.0.1:8443", certFile, keyFile),
				Options{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
			if err == nil {
				_ = srv.Close()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), certFile)):
				t.Fatalf("New = %v, want a refusal naming %s and saying %q", err, certFile, tc.want)
			}
		})
	}
}
