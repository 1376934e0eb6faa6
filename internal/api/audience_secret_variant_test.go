package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestSecretVariantAsAudienceRefused checks that an audience holding a broker secret in another
// form is refused with 400 and written nowhere, like the secret as made: the caller's run token
// with its prefix upper-cased, left off or percent-encoded (once or twice), its material alone or
// upper-cased, or any brk_ prefix in another case. Compared with the case of its letters folded
// and after percent-decoding, it is the same 256-bit secret, which the token.issue event and the
// aud of a token would otherwise carry to every reader of the trail and to the relying party.
// Guards against: tokenrequest.go:checkAudience looking only for a literal, lower-case "brk_",
// so "BRK_RUN_<secret>", "run_<secret>" or "%62rk_run_<secret>" was written into the trail and a
// token's aud.
func TestSecretVariantAsAudienceRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		aud  func(material string) string
	}{
		{"upper-case prefix", func(m string) string { return "BRK_RUN_" + m }},
		{"prefix left off", func(m string) string { return "run_" + m }},
		{"material alone in a URL", func(m string) string { return "https://relying.example/" + m }},
		{"material upper-cased", func(m string) string { return strings.ToUpper(m) }},
		{"percent-encoded prefix", func(m string) string { return "%62rk_run_" + m }},
		{"percent-encoded twice", func(m string) string { return "%2562%2572k_run_" + m }},
		{"another secret's upper-case prefix", func(string) string { return "BRK_" + strings.Repeat("k", 43) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Applying) // its token mints write tokens
			material := strings.TrimPrefix(run.RunToken, runs.TokenPrefix)
			code, env := h.call(t, request{path: "/v1/token", bearer: run.RunToken,
				body: map[string]string{"audience": tc.aud(material)}})
			if code != http.StatusBadRequest {
				t.Errorf("POST /v1/token with the audience %s: %d, want 400", tc.name, code)
			}
			secret := strings.ToLower(material)
			if tc.name == "another secret's upper-case prefix" {
				secret = strings.Repeat("k", 43)
			}
			if strings.Contains(strings.ToLower(env.Error.Message), secret) {
				t.Errorf("the refusal repeats the secret: %q", env.Error.Message)
			}
			for _, e := range h.events.all() {
				if strings.Contains(strings.ToLower(e.Detail), secret) {
					t.Errorf("event %s (%s) holds the secret material: %q", e.Action, e.Outcome, e.Detail)
				}
			}
		})
	}
}

// TestPlainAudienceStillIssued checks that the secret check refuses no ordinary audience: a URL
// with percent-encoded characters and an audience sharing letters with "brk" get their token.
// Guards against: tokenrequest.go:checkAudience refusing audiences that hold no secret once it
// folds case and percent-decodes.
func TestPlainAudienceStillIssued(t *testing.T) {
	for _, aud := range []string{"https://relying.example/a%20b%zz%", "sts.amazonaws.com", "brk-relying", "b%72k"} {
		h := newRunsHarness(t)
		run := h.start(t, runs.Tracked, runs.Applying)
		if code, env := h.call(t, request{path: "/v1/token", bearer: run.RunToken,
			body: map[string]string{"audience": aud}}); code != http.StatusOK {
			t.Errorf("POST /v1/token with the audience %q: %d %s, want 200", aud, code, env.Error.Message)
		}
	}
}
