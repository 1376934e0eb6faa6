package server

import (
	"strings"
	"testing"
)

// TestFileKeySecretAsIDIsWrittenNowhere: an API key declared in the configuration file may have
// a secret of any form (only its SHA-256 is stored), which redact's brk_ rule does not know.
// Pasted where an id goes (a run's or a stack's, a query value), the request is refused with a
// 400 repeating none of it, and it reaches neither the access log nor an audit event.
// Guards against: server.go:New not setting Router.RefuseSecrets
// Guards against: mux.go:cutSecrets not cutting the URL the access log writes
func TestFileKeySecretAsIDIsWrittenNowhere(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	secret := rootAdminSecret
	for _, c := range []struct{ method, path, bearer string }{
		{"GET", "/v1/runs/" + secret, rootAdminSecret},
		{"GET", "/v1/stacks/" + secret, ""},
		{"GET", "/v1/stacks?space=" + secret, rootAdminSecret},
		{"POST", "/v1/runs/" + secret + "/finish", ""},
	} {
		var env envelope
		code := ts.call(t, apiRequest{method: c.method, path: c.path, bearer: c.bearer, out: &env})
		if code != 400 || env.Error.Code != "invalid_request" {
			t.Errorf("%s %s: %d %q, want 400 invalid_request", c.method, c.path, code, env.Error.Code)
		}
		if strings.Contains(env.Error.Message, secret) {
			t.Errorf("%s %s: %d, the answer repeats the API key's secret: %q", c.method, c.path, code, env.Error.Message)
		}
	}
	ts.stop()
	for _, line := range strings.Split(ts.Logs.String(), "\n") {
		if strings.Contains(line, secret) {
			t.Errorf("a log line carries the API key's secret: %s", line)
		}
	}
	for _, e := range ts.chain(t) {
		if strings.Contains(e.Action+e.Detail+e.Run+e.Stack+e.Space+e.Actor, secret) {
			t.Errorf("event %s %q (%s) carries the API key's secret", e.Actor, e.Action, e.Outcome)
		}
	}
}
