package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// startResult is the answer to a run start.
type startResult struct {
	code int
	ans  started
}

// startHeld starts a run of body with the key that may create and update runs, its run.create
// event held until release is called, and returns once the event is held; the answer arrives
// on done.
func startHeld(t *testing.T, h *runsHarness, body map[string]string) (done <-chan startResult, release func()) {
	t.Helper()
	entered, release := holdEvent(t, h, "run.create")
	answers := make(chan startResult, 1)
	go func() {
		var r startResult
		defer func() { answers <- r }() // sent even when h.call fails t in this goroutine
		r.code, _ = h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate, body: body, out: &r.ans})
	}()
	waitClosed(t, entered, "the start never reached the trail")
	return answers, release
}

// A run started in APPLYING (write scope at once: it takes run:create and run:update), whose
// start was authorized before the key's role lost run:update and stored after the narrowing was
// in force, gets no run token: 403, and a denied run.create event saying so. On the old code it
// answered 201, and its token minted write-scope tokens.
func TestRunStartWithheldForRoleNarrowedMeanwhile(t *testing.T) {
	h := newRunsHarnessWith(t, harnessOptions{checkVersions: true})
	done, release := startHeld(t, h, map[string]string{"stack": "vpc-prod", "runType": string(runs.Tracked), "phase": "APPLYING"})
	// The admin narrows the role: in force on this replica (as a 200 PUT /v1/roles leaves it).
	swapCatalog(t, h, func(o *catalog.Objects) {
		for i, r := range o.Roles {
			if r.ID == "orchestrator" {
				o.Roles[i].Actions = []string{config.ActionRunCreate, config.ActionRunRead}
			}
		}
	})
	// A start asked now is refused.
	if code, _ := h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate,
		body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED", "phase": "APPLYING"}}); code != http.StatusForbidden {
		t.Fatalf("a start asked after the narrowing: %d, want 403", code)
	}
	release()
	r := <-done
	if r.code != http.StatusForbidden || r.ans.RunToken != "" {
		var tok struct {
			Token string `json:"token"`
		}
		code, _ := h.call(t, request{path: "/v1/token", bearer: r.ans.RunToken, body: map[string]string{}, out: &tok})
		t.Errorf("the start authorized before the narrowing answered %d after it (run in %s), want 403; its token: %d scope %q",
			r.code, r.ans.Run.Phase, code, scopeOf(tok.Token))
	}
	withheld := 0
	for _, e := range h.events.all() {
		if e.Action == "run.create" && e.Outcome == "denied" && strings.Contains(e.Detail, "run token not handed out") {
			withheld++
		}
	}
	if withheld != 1 {
		t.Errorf("%d run.create events saying the run token was not handed out, want 1", withheld)
	}
}

// A run start whose stack was deleted while the start was recorded and stored gets no run token:
// 409, and the run, stored without one, is of no use. On a version of the re-check without the
// stack's, it answered 201.
func TestRunStartWithheldForStackDeletedMeanwhile(t *testing.T) {
	h := newRunsHarnessWith(t, harnessOptions{checkVersions: true})
	done, release := startHeld(t, h, map[string]string{"stack": "vpc-prod", "runType": string(runs.Tracked)})
	h.dropStack(t, "vpc-prod")
	release()
	if r := <-done; r.code != http.StatusConflict || r.ans.RunToken != "" {
		t.Errorf("a start whose stack was deleted meanwhile: %d (run token handed out: %v), want 409 and none", r.code, r.ans.RunToken != "")
	}
}
