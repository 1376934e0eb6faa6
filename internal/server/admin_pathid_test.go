package server

import (
	"strings"
	"testing"
)

// TestAdminChangeOfInvalidPathID: a change whose path names an id that breaks the id rule (here
// 60,000 characters, sent by a key without space:admin) is 400 before it is authorized, so no
// refusal carrying the path is recorded: the trail's events stay their usual size.
func TestAdminChangeOfInvalidPathID(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	long := strings.Repeat("a", 60000)
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/v1/spaces/" + long, `{"parent":"team-a"}`},
		{"PUT", "/v1/stacks/" + long, `{"space":"team-a"}`},
		{"DELETE", "/v1/stacks/" + long, ""},
		{"PUT", "/v1/stacks/app-a/attachments/" + long, `{"read":true}`},
		{"DELETE", "/v1/stacks/app-a/attachments/" + long, ""},
		{"PUT", "/v1/stacks/" + long + "/attachments/aws-a", `{"read":true}`},
		{"PUT", "/v1/roles/" + long, `{"actions":["run:read"]}`},
		{"DELETE", "/v1/api-keys/" + long, ""},
		{"PUT", "/v1/spaces/Team-A", `{"parent":"root"}`},
	} {
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		r := apiRequest{method: c.method, path: c.path, bearer: noAdminSecret, out: &env}
		if c.body != "" {
			r.body = c.body
		}
		if code := ts.call(t, r); code != 400 || env.Error.Code != "invalid_request" || len(env.Error.Message) > 300 {
			t.Errorf("%s %.30s…: %d %s %.80q…, want 400 invalid_request with a short message", c.method, c.path, code, env.Error.Code, env.Error.Message)
		}
	}
	for _, e := range auditEvents(t, ts, "root", 1000) {
		if n := len(e.Action) + len(e.Detail); n > 4096 {
			t.Errorf("audit event %s %s of %d bytes (action %.60q…)", e.Actor, e.Outcome, n, e.Action)
		}
		if e.Outcome == "denied" {
			t.Errorf("a refusal was recorded: %s %.60q", e.Actor, e.Action)
		}
	}
}
