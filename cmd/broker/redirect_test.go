package main

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The CLI follows no redirect: BROKER_URL must be https off loopback so that no token or key
// crosses the network in clear, and a redirect from the https broker to http on the same host
// would carry the Authorization header there. The run token (worker commands) and the API key
// (admin commands) stay home, and the error says what to fix.
func TestCLIFollowsNoRedirect(t *testing.T) {
	const secret = "secret-0123456789-never-in-clear"
	var mu sync.Mutex
	var plainCalls []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		plainCalls = append(plainCalls, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://broker.example"+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(secure.Close)

	// broker.example:443 is the TLS server, broker.example:80 the plain one.
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			target := map[string]string{
				"broker.example:443": strings.TrimPrefix(secure.URL, "https://"),
				"broker.example:80":  strings.TrimPrefix(plain.URL, "http://"),
			}[addr]
			return (&net.Dialer{}).DialContext(ctx, network, target)
		},
	}
	saved := http.DefaultTransport
	http.DefaultTransport = tr
	t.Cleanup(func() { http.DefaultTransport = saved })

	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"worker", map[string]string{"BROKER_URL": "https://broker.example", "BROKER_RUN_TOKEN": secret}, []string{"credentials", "aws"}},
		{"admin", map[string]string{"BROKER_URL": "https://broker.example", "BROKER_API_KEY": secret}, []string{"get", "stacks"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := runCLI(c.env, c.args...)
			if res.code == 0 || !strings.Contains(res.stderr, "redirect") || !strings.Contains(res.stderr, "BROKER_URL") {
				t.Errorf("exit %d, stderr %q; want a failure that names the redirect and BROKER_URL", res.code, res.stderr)
			}
			if strings.Contains(res.stderr, secret) {
				t.Errorf("stderr holds the secret: %q", res.stderr)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(plainCalls) > 0 {
		t.Errorf("the CLI followed the redirect to plain http %d times (Authorization %q)", len(plainCalls), plainCalls)
	}
}
