package server

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/apierror"
)

// TestErrorMessagesBounded: a name a caller sends at any length (a stack, a phase, a run type,
// an integration, a provider, an audience) comes back in an error message of at most
// apierror.MaxMessage bytes, which says it was cut.
func TestErrorMessagesBounded(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: manyFailures})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	long := strings.Repeat("x", 60<<10)
	for _, c := range []struct {
		name, path, bearer string
		body               map[string]string
	}{
		{"create: stack", "/v1/runs", adminSecret, map[string]string{"stack": long, "runType": "TRACKED"}},
		{"create: phase", "/v1/runs", adminSecret, map[string]string{"stack": "vpc-prod", "runType": "TRACKED", "phase": long}},
		{"create: runType", "/v1/runs", adminSecret, map[string]string{"stack": "vpc-prod", "runType": long}},
		{"move: phase", "/v1/runs/" + run.Run.ID + "/phase", adminSecret, map[string]string{"phase": long}},
		{"credentials: integration", "/v1/credentials", run.RunToken, map[string]string{"provider": "aws", "integration": long}},
		{"credentials: provider", "/v1/credentials", run.RunToken, map[string]string{"provider": long}},
		{"token: audience", "/v1/token", run.RunToken, map[string]string{"audience": long}},
	} {
		var env envelope
		code := ts.call(t, apiRequest{method: "POST", path: c.path, bearer: c.bearer, body: c.body, out: &env})
		switch {
		case code < 400 || code >= 500:
			t.Errorf("%s: %d, want a 4xx", c.name, code)
		case len(env.Error.Message) > apierror.MaxMessage:
			t.Errorf("%s: %d with a %d-byte message: %.80s…", c.name, code, len(env.Error.Message), env.Error.Message)
		case strings.Contains(env.Error.Message, "xxxx") && !strings.HasSuffix(env.Error.Message, "[... cut]"):
			t.Errorf("%s: a message quoting the name does not say it was cut: …%s", c.name, env.Error.Message[max(0, len(env.Error.Message)-60):])
		}
	}
}
