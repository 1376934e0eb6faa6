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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// writeServingCert writes a self-signed certificate for 127.0.0.1 (mode 0644) and its private
// key (mode 0600) into a new directory, and returns their paths and the certificate.
func writeServingCert(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "broker test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// serveTLS serves cfg on ln until the test ends, and returns a pool that trusts cert.
func serveTLS(t *testing.T, cfg *config.Config, ln net.Listener, cert *x509.Certificate) *x509.CertPool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		cancel()
		t.Fatalf("New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = srv.Close()
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// tlsConfig is a configuration serving on addr with tls.cert_file and tls.key_file.
func tlsConfig(t *testing.T, addr, certFile, keyFile string) *config.Config {
	t.Helper()
	yaml := "issuer: https://" + addr + "\ntls: {cert_file: \"" + certFile + "\", key_file: \"" + keyFile + "\"}\n"
	cfg, err := config.Parse("tls.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// TestTLSKeyFileMustBePrivate: the replica serves https with a tls.key_file of mode 0600 owned
// by its user, and refuses to start (New fails, before anything listens or connects), naming the
// file, when group or others may read it or another user owns it.
func TestTLSKeyFileMustBePrivate(t *testing.T) {
	t.Run("private key file", func(t *testing.T) {
		certFile, keyFile, cert := writeServingCert(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv, err := New(ctx, tlsConfig(t, ln.Addr().String(), certFile, keyFile), Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		defer func() { _ = srv.Close() }()
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx, ln) }()
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := client.Get("https://" + ln.Addr().String() + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /healthz over https: %d", resp.StatusCode)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	for _, tc := range []struct {
		name string
		// spoil changes the key file; it may skip the test.
		spoil func(t *testing.T, keyFile string) error
		want  string
	}{
		{"readable by others", func(_ *testing.T, keyFile string) error { return os.Chmod(keyFile, 0o644) }, "has mode 0644"},
		{"readable by group", func(_ *testing.T, keyFile string) error { return os.Chmod(keyFile, 0o640) }, "has mode 0640"},
		{"owned by another user", func(t *testing.T, keyFile string) error {
			if os.Geteuid() != 0 {
				t.Skip("SKIPPED: chown to another user needs root")
			}
			return os.Chown(keyFile, 65534, 65534)
		}, "owned by uid 65534"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certFile, keyFile, _ := writeServingCert(t)
			if err := tc.spoil(t, keyFile); err != nil {
				t.Fatal(err)
			}
			srv, err := New(context.Background(), tlsConfig(t, "127.0.0.1:8443", certFile, keyFile), Options{Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				_ = srv.Close()
				t.Fatalf("New started a replica with a tls.key_file %s", tc.name)
			}
			if !strings.Contains(err.Error(), "tls.key_file") || !strings.Contains(err.Error(), keyFile) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want a refusal naming tls.key_file %s and %q", err, keyFile, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("New's error quotes the key: %v", err)
			}
		})
	}
}
