package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestTokenEventNamesItsScope checks that a token.issue event names the scope of the token it
// records, so that the trail tells a write token from a read one without the run's other events,
// whatever their order.
func TestTokenEventNamesItsScope(t *testing.T) {
	for _, tc := range []struct {
		phase runs.Phase
		want  string
	}{
		{runs.Planning, "scope=read "},
		{runs.Applying, "scope=write "},
	} {
		t.Run(string(tc.phase), func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, tc.phase)
			if code, env := h.call(t, request{path: "/v1/token", bearer: run.RunToken}); code != http.StatusOK {
				t.Fatalf("POST /v1/token: %d %s", code, env.Error.Message)
			}
			got := h.eventsOf("token.issue", "success")
			if len(got) != 1 || !strings.HasPrefix(got[0].Detail, tc.want) {
				t.Fatalf("token.issue events %+v, want one whose detail starts %q", got, tc.want)
			}
		})
	}
}
