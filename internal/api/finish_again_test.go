package api_test

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// POST /v1/runs/{id}/finish on a run already FINISHED answers 200 with the run as it is (phase
// FINISHED), as the first finish does, so that a client retrying a finish whose answer was lost
// is not told of a conflict.
func TestFinishAgainAnswersTheFinishedRun(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	path := "/v1/runs/" + run.Run.ID + "/finish"
	for i := 1; i <= 2; i++ {
		var ans struct {
			Run runs.Run `json:"run"`
		}
		code, env := h.call(t, request{path: path, bearer: secretCreateUpdate, out: &ans})
		if code != http.StatusOK || ans.Run.Phase != runs.Finished {
			t.Errorf("finish #%d: %d %q (phase %q), want 200 with phase FINISHED",
				i, code, env.Error.Message, ans.Run.Phase)
		}
	}
}
