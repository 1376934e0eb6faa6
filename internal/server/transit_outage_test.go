package server

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// cutProxy forwards loopback TCP connections to a target until Cut: then it drops every open
// connection and holds new ones open without forwarding a byte (a black hole, the worst kind of
// outage for a client); Restore forwards again.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

// startCutProxy listens on a loopback port in front of target (host:port) until t ends.
func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		_ = ln.Close()
		p.dropAll()
	})
	go p.serve()
	return p
}

// URL returns the proxy's http:// base URL.
func (p *cutProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = true
		cut := p.cut
		p.mu.Unlock()
		if cut {
			continue // held open, never read: a black hole until dropped
		}
		go p.forward(c)
	}
}

func (p *cutProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[up] = true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
}

// Cut drops the open connections and black-holes new ones.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
	p.dropAll()
}

// Restore forwards new connections again (and drops the black-holed ones).
func (p *cutProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
	p.dropAll()
}

func (p *cutProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// TestVaultTransitOutage cuts Vault off from a running broker (through a proxy, since a dev
// server keeps Transit in memory and a restart loses its keys): minting answers 503
// `unavailable` within limits.store_timeout (measured, with a generous bound), discovery and the
// JWKS are still served 200 from the last snapshot, and once Vault is reachable again the same
// process mints tokens again.
func TestVaultTransitOutage(t *testing.T) {
	v, _ := startTransitVault(t)
	u, err := url.Parse(v.Addr())
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCutProxy(t, u.Host)
	// Long enough for Vault to generate an RSA key at start-up on a loaded machine.
	const storeTimeout = 3 * time.Second
	ts := startServer(t, serverOptions{
		keyBackend: "vault-transit", keysYAML: transitYAML(proxy.URL()),
		extraYAML: "limits: {store_timeout: " + storeTimeout.String() + "}\n",
	})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("mint with Vault up: %d", code)
	}
	jwksBefore := get(t, ts.URL+"/.well-known/jwks", "").body

	proxy.Cut()
	for i := range 2 {
		start := time.Now()
		var env envelope
		code := ts.call(t, apiRequest{method: "POST", path: "/v1/token", bearer: run.RunToken, body: map[string]string{}, out: &env})
		elapsed := time.Since(start)
		if code != 503 || env.Error.Code != "unavailable" {
			t.Fatalf("mint %d with Vault cut off: %d %+v, want 503 unavailable", i, code, env.Error)
		}
		if elapsed > storeTimeout+2*time.Second {
			t.Fatalf("mint %d with Vault cut off answered after %s, want within store_timeout %s (+2s slack)", i, elapsed, storeTimeout)
		}
		t.Logf("mint %d with Vault cut off: 503 after %s", i, elapsed)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks"} {
		if r := get(t, ts.URL+path, ""); r.status != 200 {
			t.Fatalf("%s with Vault cut off: %d", path, r.status)
		}
	}
	if jwks := get(t, ts.URL+"/.well-known/jwks", "").body; string(jwks) != string(jwksBefore) {
		t.Fatalf("JWKS changed during the outage:\n%s\nwas\n%s", jwks, jwksBefore)
	}
	// The key manager's refresh keeps working from what it has.
	if _, err := ts.srv.Keys().Refresh(t.Context()); err != nil {
		t.Fatalf("refresh with Vault cut off: %v", err)
	}

	proxy.Restore()
	tok, code := ts.mint(t, run.RunToken, "")
	if code != 200 {
		t.Fatalf("mint after Vault came back: %d", code)
	}
	ts.verify(t, tok.Token, "broker.test", nil)
}

// TestReadyzFollowsTheTransitService: with keys held by Vault, /readyz fails as soon as Vault
// does not answer (the replica can sign nothing, though it still holds the public keys and its
// key set loads), so that a load balancer stops sending workers to it, and is ready again once
// Vault answers.
func TestReadyzFollowsTheTransitService(t *testing.T) {
	v, _ := startTransitVault(t)
	u, err := url.Parse(v.Addr())
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCutProxy(t, u.Host)
	ts := startServer(t, serverOptions{
		keyBackend: "vault-transit", keysYAML: transitYAML(proxy.URL()),
		extraYAML: "limits: {store_timeout: 1s}\n",
	})
	if r := get(t, ts.URL+"/readyz", ""); r.status != 200 {
		t.Fatalf("readyz with Vault up: %d %s", r.status, r.body)
	}
	proxy.Cut()
	if r := get(t, ts.URL+"/readyz", ""); r.status != 503 || !strings.Contains(string(r.body), "signing key service is unreachable") {
		t.Errorf("readyz with Vault cut off: %d %s, want 503 naming the signing key service", r.status, r.body)
	}
	proxy.Restore()
	if r := get(t, ts.URL+"/readyz", ""); r.status != 200 {
		t.Errorf("readyz with Vault back: %d %s", r.status, r.body)
	}
}
