package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// guardLimits blocks a source after three failures, for longer than any test runs.
const guardLimits = "\nlimits: {auth_failures: 3, window: 1m, cooloff: 1m}\n"

// sourceClient sends requests from a chosen loopback address (127.0.0.0/8 is all loopback),
// so one test can play several clients and a proxy.
type sourceClient struct {
	ts     *testServer
	client *http.Client
	xff    string // X-Forwarded-For header of each request, when not empty
}

func from(t *testing.T, ts *testServer, local string) *sourceClient {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &sourceClient{ts: ts, client: &http.Client{Transport: tr}}
}

// forwardedFor returns a client from the same address whose requests carry the header
// X-Forwarded-For: xff (none when xff is empty), as a proxy's would.
func (c *sourceClient) forwardedFor(xff string) *sourceClient {
	fwd := *c
	fwd.xff = xff
	return &fwd
}

// post sends a JSON body with a bearer and, when the client has one, an X-Forwarded-For
// header; it returns the status, checking an error's envelope.
func (c *sourceClient) post(t *testing.T, path, bearer, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "POST", c.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	if c.xff != "" {
		req.Header.Set("X-Forwarded-For", c.xff)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 400 {
		assertEnvelope(t, resp.StatusCode, raw)
	}
	if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	return resp.StatusCode
}

// badToken returns a run token nobody holds, with a prefix of its own.
func badToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "brk_run_" + base64.RawURLEncoding.EncodeToString(b)
}

// mintBad presents a bad run token and returns the status.
func (c *sourceClient) mintBad(t *testing.T, xff string) int {
	t.Helper()
	return c.forwardedFor(xff).post(t, "/v1/token", badToken(t), "{}")
}

// TestSpoofedForwardedForIgnored: a client that is not a trusted proxy cannot move its
// failures to another address, nor escape its own count, by sending X-Forwarded-For.
func TestSpoofedForwardedForIgnored(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: guardLimits + "http: {trusted_proxies: [127.0.0.2]}\n"})
	client, proxy := from(t, ts, "127.0.0.1"), from(t, ts, "127.0.0.2")
	spoofs := []string{"203.0.113.5", "127.0.0.2", "198.51.100.1, 203.0.113.5"}
	for _, xff := range spoofs {
		if code := client.mintBad(t, xff); code != 401 {
			t.Fatalf("bad token with X-Forwarded-For %q: %d, want 401", xff, code)
		}
	}
	if code := client.mintBad(t, "192.0.2.77"); code != 429 {
		t.Errorf("fourth failure behind a fresh spoofed X-Forwarded-For: %d, want 429 (escaped its count)", code)
	}
	// The failures were counted on 127.0.0.1, not on any address the client named.
	for _, xff := range []string{"203.0.113.5", "198.51.100.1"} {
		if code := proxy.mintBad(t, xff); code != 401 {
			t.Errorf("client %s through the proxy: %d, want 401 (blamed for a spoofer)", xff, code)
		}
	}
	if code := proxy.mintBad(t, ""); code != 401 {
		t.Errorf("the proxy itself: %d, want 401 (blamed for a spoofer)", code)
	}
	if code := proxy.mintBad(t, "127.0.0.1"); code != 429 {
		t.Errorf("127.0.0.1 through the proxy: %d, want 429", code)
	}
}

// TestForwardedForFromTrustedProxy: behind a trusted proxy the client is the right-most
// X-Forwarded-For address that is not a trusted proxy; what the client itself put on the
// left of the header does not count.
func TestForwardedForFromTrustedProxy(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: guardLimits + "http: {trusted_proxies: [127.0.0.2, 10.0.0.0/8]}\n"})
	direct, proxy := from(t, ts, "127.0.0.1"), from(t, ts, "127.0.0.2")
	// The client 203.0.113.9 claims to be 198.51.100.1; its own proxy chain appends its real
	// address and an inner trusted proxy.
	for i, left := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		if code := proxy.mintBad(t, left+", 203.0.113.9, 10.1.2.3"); code != 401 {
			t.Fatalf("failure %d: %d, want 401", i+1, code)
		}
	}
	if code := proxy.mintBad(t, "203.0.113.9"); code != 429 {
		t.Errorf("203.0.113.9 after three failures: %d, want 429", code)
	}
	for _, xff := range []string{"198.51.100.1", "203.0.113.10"} {
		if code := proxy.mintBad(t, xff); code != 401 {
			t.Errorf("client %s through the proxy: %d, want 401", xff, code)
		}
	}
	if code := direct.mintBad(t, ""); code != 401 {
		t.Errorf("another client connecting directly: %d, want 401", code)
	}
	// IPv6 clients count per /64: another address of the same /64 shares the count.
	for range 3 {
		proxy.mintBad(t, "2001:db8:1:2::1")
	}
	if code := proxy.mintBad(t, "2001:db8:1:2:ffff::9"); code != 429 {
		t.Errorf("same /64 after three failures: %d, want 429", code)
	}
	if code := proxy.mintBad(t, "2001:db8:1:3::1"); code != 401 {
		t.Errorf("next /64: %d, want 401", code)
	}
}

// TestValidCredentialsPassAfterFailures: a stranger's failures from the same address (a NAT,
// a load balancer) never lock out a valid API key or run token; only failures get 429.
func TestValidCredentialsPassAfterFailures(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: "\nlimits: {auth_failures: 5, window: 1m, cooloff: 1m}\n"})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	c := from(t, ts, "127.0.0.1")
	createBody := `{"stack": "vpc-prod", "runType": "TRACKED"}`
	for i := range 6 {
		code := c.mintBad(t, "")
		if i%2 == 1 {
			code = c.post(t, "/v1/runs", "wrong-admin-key-"+strconv.Itoa(i), createBody)
		}
		if code != 401 && code != 429 {
			t.Fatalf("failure %d: %d, want 401 or 429", i+1, code)
		}
	}
	for range 3 { // not a one-off: every valid call passes, every bad one is refused
		if code := c.post(t, "/v1/runs", adminSecret, createBody); code != 201 {
			t.Errorf("admin API key after the failures: %d, want 201", code)
		}
		if code := c.post(t, "/v1/token", run.RunToken, "{}"); code != 200 {
			t.Errorf("valid run token after the failures: %d, want 200", code)
		}
		if code := c.mintBad(t, ""); code != 429 {
			t.Errorf("bad run token: %d, want 429", code)
		}
		if code := c.post(t, "/v1/runs", "still-wrong", createBody); code != 429 {
			t.Errorf("bad API key: %d, want 429", code)
		}
	}
	for _, secret := range []string{adminSecret, run.RunToken} {
		if strings.Contains(ts.Logs.String(), secret) {
			t.Errorf("a credential reached the log")
		}
	}
}

// TestFailingCredentialPrefixLimited: failures that share a credential's first characters
// count together from any address; the valid credential with that prefix still passes, and
// other credentials from fresh addresses are not affected.
func TestFailingCredentialPrefixLimited(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: guardLimits + "http: {trusted_proxies: [127.0.0.2]}\n"})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	proxy := from(t, ts, "127.0.0.2")
	// Guesses keep the valid token's first 24 characters and vary the rest.
	guess := func(i int) string { return run.RunToken[:24] + strings.Repeat(strconv.Itoa(i), len(run.RunToken)-24) }
	for i := range 3 {
		if code := proxy.forwardedFor("203.0.113."+strconv.Itoa(i+1)).post(t, "/v1/token", guess(i), "{}"); code != 401 {
			t.Fatalf("guess %d from its own address: %d, want 401", i+1, code)
		}
	}
	if code := proxy.forwardedFor("203.0.113.50").post(t, "/v1/token", guess(7), "{}"); code != 429 {
		t.Errorf("a fourth guess with the same prefix from a fresh address: %d, want 429", code)
	}
	if code := proxy.forwardedFor("203.0.113.50").post(t, "/v1/token", run.RunToken, "{}"); code != 200 {
		t.Errorf("the valid token with that prefix: %d, want 200", code)
	}
	if code := proxy.mintBad(t, "203.0.113.51"); code != 401 {
		t.Errorf("another credential from a fresh address: %d, want 401", code)
	}
	if strings.Contains(ts.Logs.String(), run.RunToken[8:24]) {
		t.Errorf("the credential's prefix reached the log")
	}
}
