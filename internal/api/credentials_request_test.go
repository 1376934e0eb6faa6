package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestCredentialsRequestWithoutProvider: a credentials request that names no provider is a 400
// in the envelope saying the field is required and which providers there are, whatever the
// integration it names.
func TestCredentialsRequestWithoutProvider(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	for _, body := range []map[string]string{{}, {"provider": ""}, {"integration": "aws-read"}} {
		code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: body})
		msg := env.Error.Message
		if code != http.StatusBadRequest || !strings.Contains(msg, `"provider" is required`) || !strings.Contains(msg, "aws") {
			t.Errorf("POST /v1/credentials %v = %d %q, want 400 saying \"provider\" is required and naming the providers", body, code, msg)
		}
	}
}
