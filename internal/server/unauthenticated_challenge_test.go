package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestUnauthenticatedAnswersNameBearer: every 401, of the worker's endpoints and the admin
// API alike, carries the challenge WWW-Authenticate: Bearer, the scheme of every credential.
func TestUnauthenticatedAnswersNameBearer(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	for _, tc := range []struct{ method, path, bearer string }{
		{"POST", "/v1/token", ""},
		{"POST", "/v1/token", "not-a-run-token"},
		{"GET", "/v1/stacks", ""},
		{"GET", "/v1/stacks", "not-a-key"},
	} {
		req, err := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("%s %s (bearer %q): %d with WWW-Authenticate %q, want 401 with Bearer",
				tc.method, tc.path, tc.bearer, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}
