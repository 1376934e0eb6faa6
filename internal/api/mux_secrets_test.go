package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRouterRefusesSecretsInTheURL pins Router.RefuseSecrets: a path segment or query value (or
// name) the check knows as a secret is refused with a 400 in the envelope that repeats none of
// it, before any route, the URL cut in place (the segment to a mark, the query dropped) for the
// access log written after; other requests reach their route; the registered paths' literal
// segments are never asked, so a route of literals alone costs no look-up.
// Guards against: mux.go:ServeHTTP skipping cutSecrets, or cutSecrets leaving the URL uncut
// Guards against: mux.go:Handle not recording the literal segments
func TestRouterRefusesSecretsInTheURL(t *testing.T) {
	const secret = "s3cr3t-key"
	rt := NewRouter()
	var asked []string
	rt.RefuseSecrets(func(s string) bool { asked = append(asked, s); return s == secret })
	served := 0
	for _, p := range []string{"POST /v1/token", "GET /v1/runs/{id}", "GET /v1/stacks"} {
		rt.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { served++; w.WriteHeader(http.StatusNoContent) })
	}
	for _, tc := range []struct {
		method, target string
		status         int
		cut            string // the URL after serving, when refused
		asked          []string
	}{
		{"POST", "/v1/token", 204, "", nil},
		{"GET", "/v1/runs/run-1", 204, "", []string{"run-1"}},
		{"GET", "/v1/runs/" + secret, 400, "/v1/runs/…", []string{secret}},
		{"GET", "/v1/stacks?space=" + secret, 400, "/v1/stacks", []string{"space", secret}},
		{"GET", "/v1/stacks?" + secret + "=x", 400, "/v1/stacks", []string{secret}},
		{"GET", "/v1/stacks?space=prod", 204, "", []string{"space", "prod"}},
		{"GET", "/v1/nowhere/" + secret, 400, "/v1/…/…", []string{"nowhere", secret}},
	} {
		asked, served = nil, 0
		r := httptest.NewRequest(tc.method, tc.target, nil)
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.target, w.Code, w.Body, tc.status)
		}
		if tc.status != 400 {
			if served != 1 {
				t.Errorf("%s %s: the route was not served", tc.method, tc.target)
			}
		} else {
			if served != 0 || envelopeCode(w) != "invalid_request" || strings.Contains(w.Body.String(), secret) {
				t.Errorf("%s %s: served %d, answer %s", tc.method, tc.target, served, w.Body)
			}
			if got := r.URL.String(); strings.Contains(got, secret) || r.URL.Path != strings.ReplaceAll(tc.cut, "/v1/…/…", "/v1/nowhere/…") {
				t.Errorf("%s %s: the URL left for the access log is %q", tc.method, tc.target, got)
			}
		}
		if strings.Join(asked, ",") != strings.Join(tc.asked, ",") && !(len(tc.asked) == 2 && len(asked) == 2 && asked[0] == tc.asked[1]) {
			t.Errorf("%s %s: asked %q, want %q", tc.method, tc.target, asked, tc.asked)
		}
	}
}
