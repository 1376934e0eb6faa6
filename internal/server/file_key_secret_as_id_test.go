package server

import (
	"strings"
	"testing"
)

// TestFileKeySecretAsIDIsLoggedNowhere: an API key declared in the configuration file may have
// a secret of any form (only its SHA-256 is stored), which redact's brk_ rule does not know.
// Pasted where an id goes (a run's or a stack's id, after "Bearer ", before ".json", after an
// empty segment, or as the X-Request-Id), it reaches no log line; and each request is answered
// as the same request naming another id (the status, and the message with the id left out),
// so the answers tell no one which guess is a key's secret.
// Guards against: server.go:New not setting Router.CutSecrets
// Guards against: middleware.go:Instrument not cutting the access log's path or request id
// Guards against: mux.go:ServeHTTP answering a path holding a secret otherwise than another
func TestFileKeySecretAsIDIsLoggedNowhere(t *testing.T) {
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
}

// TestAuditListingTellsNoSecretFromAGuess: the audit trail is an answer too (GET /v1/audit). A key
// holding only audit:read makes a change it may not (PUT /v1/stacks/<guess>, 403 as for any id,
// counted against no failed-attempt limit) and lists the trail: the refusal is recorded the same
// way whether the guess is another key's secret (the root admin's) or not, so the trail does not
// let it test guesses at secrets.
// Guards against: admin.go:recordedPath cutting a path part only when it is a key's secret
func TestAuditListingTellsNoSecretFromAGuess(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	type listing struct {
		Events []struct{ Actor, Action, Outcome string } `json:"events"`
	}
	actionFor := func(guess string) (int, string) {
		code := ts.call(t, apiRequest{method: "PUT", path: "/v1/stacks/" + guess, bearer: auditorSecret, body: `{"space":"team-a"}`})
		var l listing
		if c := ts.call(t, apiRequest{method: "GET", path: "/v1/audit?limit=1000", bearer: auditorSecret, out: &l}); c != 200 {
			t.Fatalf("GET /v1/audit: %d", c)
		}
		last := ""
		for _, e := range l.Events {
			if strings.HasPrefix(e.Action, "PUT /v1/stacks/") {
				last = e.Action
			}
		}
		return code, strings.ReplaceAll(last, guess, "GUESS")
	}
	c1, a1 := actionFor("some-other-id")
	c2, a2 := actionFor(rootAdminSecret)
	if c1 != c2 || a1 != a2 || a1 == "" {
		t.Errorf("the audit listing tells a key's secret from another guess: %d %q vs %d %q", c1, a1, c2, a2)
	}
}
