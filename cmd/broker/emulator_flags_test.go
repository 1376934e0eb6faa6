package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEmulatorRefusesAnIssuerThatIsNoBrokerURL pins that broker emulator --issuer takes only
// http(s)://HOST[:PORT][/PATH]: another scheme, no host, a query or a fragment is a usage error
// (exit 2, one line) before anything listens.
// Guards against: emulator.go:155 checkIssuerFlag drops the query/fragment check
// Guards against: emulator.go:155 checkIssuerFlag drops the http/https scheme check
func TestEmulatorRefusesAnIssuerThatIsNoBrokerURL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, issuer := range []string{
		"ftp://127.0.0.1:8080",
		"file:///etc/passwd",
		"127.0.0.1:8080",
		"https://",
		"https://broker.example.com?x=1",
		"https://broker.example.com/#frag",
	} {
		t.Run(issuer, func(t *testing.T) {
			// An accepted issuer would serve until the deadline, then exit 0.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }},
				[]string{"emulator", "--issuer", issuer, "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--state-dir", dir})
			if code != exitUsage || !strings.Contains(errb.String(), "--issuer") || strings.Count(errb.String(), "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line about --issuer", code, errb.String())
			}
		})
	}
}

// TestEmulatorEntraMetadataNamesItsHTTPSAddress pins that the Entra emulator's tenant metadata (the
// embedded default's demo tenant) names the https address broker emulator serves it at
// (--tls-listen): Microsoft's client refuses an http authority, and broker's Azure exchange follows
// these endpoints.
// Guards against: emulator.go:48 emulator.FromConfig(cfg, "https://"+*tlsListen) -> "http://"
func TestEmulatorEntraMetadataNamesItsHTTPSAddress(t *testing.T) {
	em := runEmulatorUntilReady(t, t.TempDir(), nil)
	pem, err := os.ReadFile(em.certPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", em.certPath)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + em.tlsAddr + "/00000000-0000-0000-0000-000000000000/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		TokenEndpoint string `json:"token_endpoint"`
		Issuer        string `json:"issuer"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&meta) != nil {
		t.Fatalf("tenant metadata: %d", resp.StatusCode)
	}
	if want := "https://" + em.tlsAddr + "/"; !strings.HasPrefix(meta.TokenEndpoint, want) {
		t.Errorf("token_endpoint %q, want it under %s", meta.TokenEndpoint, want)
	}
}

// TestEmulatorListensOnLoopbackOnly: the emulators hand out credentials to anyone who shows a
// token of the broker they trust, and their certificate names only loopback: an address that is
// not loopback (every interface included) is a usage error naming the flag, before anything is
// served or written.
// Guards against: emulator.go listening wherever --listen and --tls-listen say
func TestEmulatorListensOnLoopbackOnly(t *testing.T) {
	for _, tc := range []struct{ flag, addr string }{
		{"--listen", "0.0.0.0:0"},
		{"--listen", ":0"},
		{"--listen", "[::]:0"},
		{"--listen", "192.0.2.1:0"},
		{"--listen", "example.com:0"},
		{"--tls-listen", "0.0.0.0:0"},
		{"--tls-listen", "[::]:0"},
	} {
		r := runCLI(map[string]string{}, "emulator", "--state-dir", t.TempDir(), tc.flag, tc.addr)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.flag) || !strings.Contains(r.stderr, "loopback") {
			t.Errorf("emulator %s %s: %+v; want exit %d naming the flag and loopback", tc.flag, tc.addr, r, exitUsage)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0", "127.0.0.2:0"} {
		if err := checkLoopbackListen("--listen", addr); err != nil {
			t.Errorf("--listen %s refused: %v", addr, err)
		}
	}
}
