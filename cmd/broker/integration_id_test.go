package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// pastedSecret stands for a secret pasted into --integration by mistake: it is no id.
const pastedSecret = "brk_run_0123456789abcdef0123456789abcdef"

// echoingBroker answers every request 404 with a message that quotes the requested
// integration, as a broker does for an integration it does not hold, and counts the requests.
func echoingBroker(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var asked atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"No such integration \"` + pastedSecret + `\"."}}`))
	}))
	t.Cleanup(ts.Close)
	return ts.URL, &asked
}

// TestCredentialsIntegrationIsAnID pins broker credentials --integration to an id: a value
// that is none (a secret pasted in the wrong place) is a usage error (exit 2) before any request,
// and is not repeated on stderr, as broker delete does for the integration it names. Sent on,
// the broker's answer would quote it and the CLI would print it to the CI log.
func TestCredentialsIntegrationIsAnID(t *testing.T) {
	url, asked := echoingBroker(t)
	r := runCLI(map[string]string{"BROKER_URL": url, "BROKER_RUN_TOKEN": "brk_run_x"},
		"credentials", "aws", "--integration", pastedSecret)
	if strings.Contains(r.stderr, pastedSecret) || strings.Contains(r.stdout, pastedSecret) {
		t.Errorf("the --integration value is repeated: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if r.code != exitUsage || asked.Load() != 0 {
		t.Errorf("exit %d after %d requests, want 2 before any request; stderr %q", r.code, asked.Load(), r.stderr)
	}
}

// TestTrustIntegrationIsAnID pins broker trust --integration to an id: a value that is
// none is a usage error (exit 2) that does not repeat it, as for --stack.
func TestTrustIntegrationIsAnID(t *testing.T) {
	r := runCLI(map[string]string{}, "trust", "vault", "--config", trustConfig(t), "--stack", "s1", "--scope", "read",
		"--integration", pastedSecret)
	if strings.Contains(r.stderr, pastedSecret) || r.stdout != "" {
		t.Errorf("the --integration value is repeated or a document printed: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if r.code != exitUsage {
		t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
	}
}
