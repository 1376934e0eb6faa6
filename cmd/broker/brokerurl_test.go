package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// proxyLog is an HTTP proxy that answers 502 to everything and keeps what it was sent.
type proxyLog struct {
	mu   sync.Mutex
	seen []string // method, target and Authorization of each request
}

func (p *proxyLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.Method+" "+r.RequestURI+" "+r.Header.Get("Authorization"))
	p.mu.Unlock()
	http.Error(w, "proxy test", http.StatusBadGateway)
}

func (p *proxyLog) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// TestBrokerURLNeedsHTTPSOffLoopback: with a BROKER_URL of plain http to a host off loopback,
// broker token, broker credentials, broker audit verify and the administration commands exit 2 with one line naming the host,
// and send nothing: every request would go through the proxy the environment names, which sees
// none. Over https they try the broker (through the proxy, in a tunnel).
func TestBrokerURLNeedsHTTPSOffLoopback(t *testing.T) {
	proxy := &proxyLog{}
	ps := httptest.NewServer(proxy)
	defer ps.Close()
	const secret = "brk_run_secret-never-sent"
	proxied := []string{"HTTP_PROXY=" + ps.URL, "http_proxy=" + ps.URL, "HTTPS_PROXY=" + ps.URL, "https_proxy=" + ps.URL,
		"NO_PROXY=", "no_proxy=", "BROKER_RUN_TOKEN=" + secret, "BROKER_API_KEY=" + secret}
	commands := [][]string{{"token"}, {"credentials", "aws"}, {"audit", "verify"}, {"get", "spaces"}, {"delete", "stack", "x"},
		{"api-keys", "create", "--id", "x", "--bind", "auditor@root"}}
	for _, base := range []string{"http://broker.example.com:8080", "http://10.0.0.7", "http://[2001:db8::1]:8080/", "HTTP://broker.example.com"} {
		for _, args := range commands {
			t.Run(base+" "+args[0], func(t *testing.T) {
				r := broker(t, append([]string{"BROKER_URL=" + base}, proxied...), args...)
				if r.code != 2 || !strings.Contains(r.stderr, "BROKER_URL must use https:// to reach") {
					t.Errorf("exit %d, stderr %q; want 2 and the https rule", r.code, r.stderr)
				}
				if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 || strings.Contains(r.stderr+r.stdout, secret) {
					t.Errorf("stderr %q, want one line without the secret", r.stderr)
				}
				if got := proxy.requests(); len(got) != 0 {
					t.Fatalf("requests sent over plain http: %q", got)
				}
			})
		}
	}
	for _, args := range commands {
		t.Run("https "+args[0], func(t *testing.T) {
			r := broker(t, append([]string{"BROKER_URL=https://broker.example.com"}, proxied...), args...)
			if r.code != 1 || strings.Contains(r.stderr, "must use https") {
				t.Errorf("exit %d, stderr %q; want 1 (the proxy refuses the tunnel)", r.code, r.stderr)
			}
		})
	}
	if got := proxy.requests(); len(got) < len(commands) {
		t.Errorf("proxy saw %q, want a tunnel from each command over https", got)
	}
	for _, got := range proxy.requests() {
		if !strings.HasPrefix(got, "CONNECT broker.example.com:443 ") || strings.Contains(got, secret) {
			t.Errorf("proxy saw %q, want only tunnels that carry no secret", got)
		}
	}
}

// TestBrokerURLWithAPassword: a BROKER_URL carrying user information is refused (exit 2) by
// every command that calls the broker, in one line that does not repeat the password, and
// nothing is sent: broker authenticates with the run token or the API key, never the URL.
func TestBrokerURLWithAPassword(t *testing.T) {
	const password = "hunter2-in-the-url"
	for _, args := range [][]string{{"token"}, {"credentials", "aws"}, {"get", "spaces"}} {
		t.Run(args[0], func(t *testing.T) {
			r := broker(t, []string{"BROKER_URL=http://ci:" + password + "@127.0.0.1:1", "BROKER_RUN_TOKEN=x", "BROKER_API_KEY=x"}, args...)
			if r.code != 2 || !strings.Contains(r.stderr, "BROKER_URL must not carry a user name or password") {
				t.Errorf("exit %d, stderr %q; want 2 and the rule", r.code, r.stderr)
			}
			if strings.Contains(r.stderr+r.stdout, password) {
				t.Errorf("the password reached the output: %q", r.stderr)
			}
		})
	}
}

// TestBrokerURLWithAQueryOrFragment: a BROKER_URL with a query or a fragment is not a base URL
// the CLI can append /v1/... to; it is a usage error (exit 2) naming BROKER_URL, and no call
// is made.
func TestBrokerURLWithAQueryOrFragment(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:1/?tenant=a", "http://127.0.0.1:1/broker?", "http://127.0.0.1:1#x", "http://127.0.0.1:1/#"} {
		r := broker(t, []string{"BROKER_URL=" + u, "BROKER_RUN_TOKEN=x"}, "token")
		if r.code != 2 || !strings.Contains(r.stderr, "BROKER_URL must be a base URL") {
			t.Errorf("BROKER_URL=%s: exit %d, stderr %q; want 2 and the rule", u, r.code, strings.TrimSpace(r.stderr))
		}
	}
}

// TestLoopbackBrokerURLSkipsTheProxy: plain http is allowed to a loopback host in any spelling
// the URL check accepts (LOCALHOST, 127.0.0.2, [::1]) because no network lies on the path; with
// HTTP_PROXY set, as on many CI runners, the token must not go through the proxy in clear.
// Go's own proxy rule exempts only the lowercase "localhost" and loopback IPs.
func TestLoopbackBrokerURLSkipsTheProxy(t *testing.T) {
	proxy := &proxyLog{}
	ps := httptest.NewServer(proxy)
	defer ps.Close()
	const secret = "brk_run_secret-must-not-reach-the-proxy"
	for _, host := range []string{"LOCALHOST", "LocalHost", "localhost", "127.0.0.2", "[::1]"} {
		r := broker(t, []string{"BROKER_URL=http://" + host + ":9", "HTTP_PROXY=" + ps.URL, "http_proxy=" + ps.URL,
			"NO_PROXY=", "no_proxy=", "BROKER_RUN_TOKEN=" + secret}, "token")
		if r.code != exitError {
			t.Errorf("%s: exit %d, want 1 (nothing listens there); stderr %q", host, r.code, r.stderr)
		}
	}
	if got := proxy.requests(); len(got) != 0 {
		t.Errorf("the proxy was sent %q, want nothing: a loopback broker is reached directly", got)
	}
}
