package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/runs"
)

// TestAudienceIsNoUnlimitedSecretOracle: an audience that is an API key's secret is refused
// (400) while any other gets a token, so a run's code could try secrets as audiences; the
// control plane holds such guesses to limits.auth_failures, and the token endpoint holds each
// run to api.MaxRunAudiences distinct audiences: past them a new audience is refused 429 alike,
// secret or not, while the audiences the run used stay served and another run is not held.
// Each refusal is a denied token.issue event that never names the audience.
func TestAudienceIsNoUnlimitedSecretOracle(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	token := func(bearer, aud string) (int, apiError) {
		t.Helper()
		return h.call(t, request{path: "/v1/token", bearer: bearer, body: map[string]string{"audience": aud}})
	}
	for i := range api.MaxRunAudiences {
		if code, env := token(run.RunToken, fmt.Sprintf("guess-%02d", i)); code != http.StatusOK {
			t.Fatalf("audience %d of %d: %d %s", i+1, api.MaxRunAudiences, code, env.Error.Message)
		}
	}
	for _, aud := range []string{"guess-next", secretCreate} {
		if code, env := token(run.RunToken, aud); code != http.StatusTooManyRequests || env.Error.Code != "rate_limited" {
			t.Errorf("a new audience past %d (%s): %d %s, want 429 rate_limited alike",
				api.MaxRunAudiences, aud, code, env.Error.Code)
		}
	}
	if code, _ := token(run.RunToken, "guess-00"); code != http.StatusOK {
		t.Errorf("an audience the run used before, past the bound: %d, want 200", code)
	}
	other := h.start(t, runs.Tracked, runs.Planning)
	if code, env := token(other.RunToken, secretCreate); code != http.StatusBadRequest {
		t.Errorf("another run with an API key's secret as its first audience: %d %s, want 400", code, env.Error.Message)
	}
	denied := 0
	for _, e := range h.events.all() {
		if strings.Contains(e.Detail, secretCreate) || strings.Contains(e.Detail, "guess-next") {
			t.Errorf("event %s (%s) names the audience: %q", e.Action, e.Outcome, e.Detail)
		}
		if e.Action == "token.issue" && e.Outcome == "denied" {
			denied++
		}
	}
	if denied != 3 {
		t.Errorf("%d denied token.issue events, want 3 (two past the bound, one secret)", denied)
	}
}
