package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSecretWithAControlCharacterIsUsage: a run token or API key holding a control character (a
// newline pasted inside it, a NUL, DEL) cannot go in a header. It is a usage error (exit 2) that
// names the variable, before any request and without repeating the secret; the HTTP client's
// own refusal would read as a broker that cannot be reached (exit 1).
func TestSecretWithAControlCharacterIsUsage(t *testing.T) {
	var asked atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		asked.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(ts.Close)
	cases := []struct {
		variable string
		args     []string
	}{
		{"BROKER_RUN_TOKEN", []string{"token"}},
		{"BROKER_RUN_TOKEN", []string{"credentials", "aws"}},
		{"BROKER_API_KEY", []string{"get", "stack", "s1"}},
	}
	for _, tc := range cases {
		for _, secret := range []string{"brk_secret_ab\ncdefgh", "brk_secret_ab\x00cdefgh",
			"brk_secret_ab\x7fcdefgh", "brk_secret_ab\tcdefgh"} {
			r := runCLI(map[string]string{"BROKER_URL": ts.URL, tc.variable: secret}, tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.variable) {
				t.Errorf("broker %q, %s %q: exit %d, stderr %q; want 2 naming the variable",
					tc.args, tc.variable, secret, r.code, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "brk_secret") {
				t.Errorf("broker %q repeats the secret: %q", tc.args, r.stderr)
			}
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the broker was asked %d times with a secret no header can carry", n)
	}
}
