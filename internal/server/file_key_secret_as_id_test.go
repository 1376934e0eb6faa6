package server

import (
	"strings"
	"testing"
)

// TestFileKeySecretAsIDIsRecordedNowhere: an API key declared in the configuration file may have
// a secret of any form (only its SHA-256 is stored), which redact's brk_ rule does not know.
// Pasted where an id goes (a run's or a stack's id, after "Bearer ", before ".json", after an
// empty segment, or as the X-Request-Id), it reaches neither a log line nor an audit event; and
// each request is answered as the same request naming another id (the status, and the message
// with the id left out), so the answers tell no one which guess is a key's secret.
// Guards against: server.go:New not setting Router.CutSecrets
// Guards against: middleware.go:Instrument not cutting the access log's path or request id
// Guards against: admin.go:recordedPath not cutting with the router's CutPath
// Guards against: mux.go:ServeHTTP answering a path holding a secret otherwise than another
func TestFileKeySecretAsIDIsRecordedNowhere(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	secret := rootAdminSecret
	const other = "some-other-id"
	for _, c := range []struct{ method, path, bearer, requestID string }{
		{"GET", "/v1/runs/%s", rootAdminSecret, ""},
		{"GET", "/v1/stacks/%s", "", ""},
		{"GET", "/v1/stacks/%s.json", "", ""},
		{"GET", "/v1/runs/Bearer%%20%s", rootAdminSecret, ""},
		{"GET", "/v1/runs//%s", rootAdminSecret, ""},
		{"POST", "/v1/runs/%s/finish", "", ""},
		{"GET", "/v1/stacks?space=%s", rootAdminSecret, ""},
		{"GET", "/v1/stacks", rootAdminSecret, "%s"},
	} {
		answer := func(id string) (int, string) {
			var env envelope
			req := apiRequest{method: c.method, path: strings.ReplaceAll(c.path, "%s", id), bearer: c.bearer, out: &env}
			req.path = strings.ReplaceAll(req.path, "%%", "%")
			if c.requestID != "" {
				req.header = map[string]string{"X-Request-Id": id}
			}
			code := ts.call(t, req)
			return code, env.Error.Code + " " + strings.ReplaceAll(env.Error.Message, id, "ID")
		}
		c1, m1 := answer(secret)
		c2, m2 := answer(other)
		if c1 != c2 || m1 != m2 {
			t.Errorf("%s %s: a key's secret answered %d %q, another id %d %q: the answer tells them apart", c.method, c.path, c1, m1, c2, m2)
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
