package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/runs"
)

// filedIn returns the space an event is filed under, as the server's trail files it: the
// run's space, else the event's own.
func filedIn(e api.Event) string {
	if e.Run.Space != "" {
		return e.Run.Space
	}
	return e.Space
}

// A run naming an integration of another space, which it is answered as unknown, leaves in its
// own space's audit trail nothing that an integration that does not exist would not leave: that
// trail is read by the run's team, who may hold no binding on the other space, and must learn
// neither that the integration exists nor its provider (as POST /v1/runs files the refusal of a
// hidden stack where the key cannot read).
func TestHiddenIntegrationLeavesNoTraceInRunsSpace(t *testing.T) {
	h := newRunsHarness(t)
	h.addOtherSpaceIntegration(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	for _, provider := range []string{"aws", "gcp"} {
		for _, id := range []string{"aws-other", "aws-nowhere"} {
			code, _ := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken,
				body: map[string]string{"provider": provider, "integration": id}})
			if code != http.StatusNotFound {
				t.Fatalf("provider %s, integration %s: %d, want 404", provider, id, code)
			}
		}
	}
	owners := 0 // refusals filed in the integration's own space, which its owners read
	for _, e := range h.events.all() {
		if filedIn(e) == "dev" && e.Integration == "aws-other" && e.Outcome == "denied" {
			owners++
		}
		if filedIn(e) != "prod" {
			continue
		}
		if e.Integration == "aws-other" || strings.Contains(e.Detail, "aws-other") {
			t.Errorf("event filed in the run's space tells of another space's integration: %s %s %q",
				e.Action, e.Outcome, e.Detail)
		}
	}
	if owners != 2 {
		t.Errorf("%d refusals of aws-other filed in its space dev, want 2 (one per request)", owners)
	}
}
