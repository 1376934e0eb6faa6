package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestSecretAsAudienceRefused checks that an audience that is, or holds, a broker secret (the
// caller's own run token, a generated API key, any API key's secret the file declares, a URL
// built around a run token) is refused with 400 and written nowhere: not into an event, which
// every audit:read key of the space lists, nor into the aud of a token.
func TestSecretAsAudienceRefused(t *testing.T) {
	for _, name := range []string{"the run token", "an API key", "a file API key's own secret", "a URL holding the run token"} {
		t.Run(name, func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Applying) // its token mints write tokens
			secret := run.RunToken
			switch name {
			case "an API key":
				secret = "brk_" + strings.Repeat("k", 43)
			case "a file API key's own secret":
				secret = secretCreate // any string the file's secret_sha256 names
			case "a URL holding the run token":
				secret = "https://relying.example/" + run.RunToken
			}
			code, env := h.call(t, request{path: "/v1/token", bearer: run.RunToken,
				body: map[string]string{"audience": secret}})
			if code != http.StatusBadRequest {
				t.Errorf("POST /v1/token with %s as the audience: %d, want 400", name, code)
			}
			if strings.Contains(env.Error.Message, secret) {
				t.Errorf("the refusal repeats the secret: %q", env.Error.Message)
			}
			for _, e := range h.events.all() {
				if strings.Contains(e.Detail, secret) || strings.Contains(e.Actor, secret) {
					t.Errorf("event %s (%s) holds the secret: %q", e.Action, e.Outcome, e.Detail)
				}
			}
		})
	}
}
