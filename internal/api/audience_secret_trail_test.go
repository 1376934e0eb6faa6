package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestSecretAudienceRefusalAudited checks that a token refused because its audience is, or
// holds, a broker secret is one denied token.issue event in the trail, never naming the
// audience, whichever secret it is: a file API key's, the run's own run token, any brk_ secret,
// or the run token's material in another form.
// Guards against: tokenrequest.go:checkTokenRequest recording the refusal only for a file API
// key's secret, so the same refusal of a brk_ secret (checkAudience) left no event at all.
func TestSecretAudienceRefusalAudited(t *testing.T) {
	for _, tc := range []struct {
		name string
		aud  func(runToken string) string
	}{
		{"a file API key's secret", func(string) string { return secretCreate }},
		{"the run's own run token", func(tok string) string { return tok }},
		{"a generated API key", func(string) string { return "brk_" + strings.Repeat("k", 43) }},
		{"the run token upper-cased", func(tok string) string { return strings.ToUpper(tok) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Applying)
			aud := tc.aud(run.RunToken)
			code, env := h.call(t, request{path: "/v1/token", bearer: run.RunToken,
				body: map[string]string{"audience": aud}})
			if code != http.StatusBadRequest {
				t.Fatalf("%s as the audience: %d %s, want 400", tc.name, code, env.Error.Message)
			}
			denied := h.eventsOf("token.issue", "denied")
			if len(denied) != 1 {
				t.Fatalf("%s as the audience: refused (%q) with %d denied token.issue events, want 1", tc.name, env.Error.Message, len(denied))
			}
			if d := strings.ToLower(denied[0].Detail); strings.Contains(d, strings.ToLower(aud)) {
				t.Errorf("the denied event names the audience: %q", denied[0].Detail)
			}
		})
	}
}
