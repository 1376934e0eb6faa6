package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
)

// failingBroker serves every request with status and body, and returns the server's URL.
func failingBroker(t *testing.T, status int, body string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestErrorLineHasNoControlCharacters: the one line a worker command writes on stderr for a
// refused call holds no control character besides its final newline, though the broker's
// message passes on an upstream's (a Vault or STS endpoint a space admin may name), whose ESC
// or BEL would rewrite the terminal or the CI log that shows the line.
func TestErrorLineHasNoControlCharacters(t *testing.T) {
	const msg = `The vault exchange failed: denied\u001b[1A\u001b[2K\u001b]0;owned\u0007 \u009b2J\b\b`
	body := `{"error":{"code":"upstream_error","message":"` + msg + `"}}`
	url := failingBroker(t, http.StatusBadGateway, body)
	for _, args := range [][]string{{"token"}, {"credentials", "vault"}} {
		r := runCLI(map[string]string{"BROKER_URL": url, "BROKER_RUN_TOKEN": "brk_run_x"}, args...)
		line := strings.TrimSuffix(r.stderr, "\n")
		if r.code != exitError || line == "" {
			t.Fatalf("broker %q: exit %d, stderr %q; want 1 and one line", args, r.code, r.stderr)
		}
		if strings.ContainsFunc(line, unicode.IsControl) {
			t.Errorf("broker %q: stderr %q holds a control character", args, r.stderr)
		}
	}
}
