package server

import (
	"strings"
	"testing"
)

// TestSecretSentAsIDIsWrittenNowhere: a run token pasted where an id goes (a run's, a stack's,
// an unknown endpoint's path), as it is or percent-encoded, is answered without it, and reaches
// neither a log line (the access log's path included) nor an audit event (the 401 of an
// administration read names its path), whoever sends it: the root admin, a key refused the
// change, a key that is none, or no key at all.
func TestSecretSentAsIDIsWrittenNowhere(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	secret := ts.createRun(t, "vpc-prod", "TRACKED").RunToken
	body := strings.TrimPrefix(secret, "brk_run_")[:32] // what must never be written back
	for _, c := range []struct{ method, path, bearer string }{
		{"GET", "/v1/runs/" + secret, rootAdminSecret},
		{"POST", "/v1/runs/" + secret + "/finish", rootAdminSecret},
		{"GET", "/v1/stacks/" + secret, rootAdminSecret},
		{"PUT", "/v1/stacks/" + secret, limitedSecret},
		{"DELETE", "/v1/spaces/" + secret, ""},
		{"GET", "/v1/" + secret, rootAdminSecret},
		{"PATCH", "/v1/runs/" + secret, rootAdminSecret},
		{"GET", "/v1/stacks/" + secret, ""},
		{"GET", "/v1/spaces/" + secret, "brk_not_a_key"},
		{"GET", "/v1/stacks/" + secret + "/attachments", ""},
		{"GET", "/v1/stacks/%62" + secret[1:], ""},
	} {
		var env envelope
		code := ts.call(t, apiRequest{method: c.method, path: c.path, bearer: c.bearer,
			body: `{"space":"dev"}`, out: &env})
		if code < 400 {
			t.Errorf("%s %s…: %d, want a refusal", c.method, c.path[:12], code)
		}
		if strings.Contains(env.Error.Message, body) {
			t.Errorf("%s %s…: the answer repeats the secret: %q", c.method, c.path[:12], env.Error.Message)
		}
	}
	ts.stop()
	if strings.Contains(ts.Logs.String(), body) {
		t.Errorf("the logs carry the secret:\n%s", ts.Logs.String())
	}
	for _, e := range ts.chain(t) {
		if strings.Contains(e.Action+e.Detail+e.Run+e.Stack+e.Space+e.Actor, body) {
			t.Errorf("event %s (%s) carries the secret", e.Action, e.Outcome)
		}
	}
}
