package server

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// TestMovedSpaceListsLaterEventsOfItsOlderRuns: a space that moves stays the same space,
// so an event recorded after the move about a run of one of its own stacks (the root key
// finishing a run begun before the move) is listed under the space, as under its new parent.
func TestMovedSpaceListsLaterEventsOfItsOlderRuns(t *testing.T) {
	clock := fakeclock.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	ts := startServer(t, serverOptions{baseYAML: adminConfig, now: clock.Now, quiet: true})
	ts.admin(t, "PUT", "/v1/spaces/zm", `{"parent":"root"}`).expect(t, "create the space", 201)
	ts.admin(t, "PUT", "/v1/stacks/zm-stack", `{"space":"zm"}`).expect(t, "create its stack", 201)
	clock.Advance(time.Minute)
	var run runAnswer
	body := map[string]string{"stack": "zm-stack", "runType": "TRACKED"}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs",
		bearer: rootAdminSecret, body: body, out: &run}); code != 201 {
		t.Fatalf("start a run in zm: %d", code)
	}
	clock.Advance(time.Minute)
	ts.admin(t, "PUT", "/v1/spaces/zm", `{"parent":"prod"}`).expect(t, "move it", 200)
	clock.Advance(time.Minute)
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + run.Run.ID + "/finish",
		bearer: rootAdminSecret}); code != 200 {
		t.Fatalf("finish zm's run after the move: %d", code)
	}
	clock.Advance(time.Minute)
	for _, space := range []string{"prod", "zm"} {
		found := false
		for _, e := range auditEvents(t, ts, space, 100) {
			if e.Run == run.Run.ID && e.Action == "run.finish" && e.Space == "zm" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s does not list the finish, after the move, of zm's own run %s",
				space, run.Run.ID)
		}
	}
}

// TestRebornSpaceListsNoOldRunDatedAhead: a space deleted and made again in the same
// millisecond is another space, so the events of a run of the deleted one are not listed under
// it, also when that run was dated ahead (its stack came back a moment before, so the run counts
// as begun SettleTime later, when the space made again also counts as placed).
func TestRebornSpaceListsNoOldRunDatedAhead(t *testing.T) {
	clock := fakeclock.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	ts := startServer(t, serverOptions{baseYAML: adminConfig, now: clock.Now, quiet: true})
	step := func(method, path, body, what string, want int) {
		t.Helper()
		clock.Advance(100 * time.Microsecond)
		ts.admin(t, method, path, body).expect(t, what, want)
	}
	step("PUT", "/v1/spaces/zr", `{"parent":"root"}`, "create the space", 201)
	step("PUT", "/v1/stacks/zr-st", `{"space":"zr"}`, "create its stack", 201)
	step("DELETE", "/v1/stacks/zr-st", "", "delete the stack", 204)
	step("PUT", "/v1/stacks/zr-st", `{"space":"zr"}`, "create the stack again", 201)
	var old runAnswer
	body := map[string]string{"stack": "zr-st", "runType": "TRACKED", "phase": "APPLYING"}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs",
		bearer: rootAdminSecret, body: body, out: &old}); code != 201 {
		t.Fatalf("start the old space's run: %d", code)
	}
	if _, code := ts.mint(t, old.RunToken, ""); code != 200 {
		t.Fatalf("mint for the old run: %d", code)
	}
	step("DELETE", "/v1/stacks/zr-st", "", "delete the stack again", 204)
	step("DELETE", "/v1/spaces/zr", "", "delete the space", 204)
	step("PUT", "/v1/spaces/zr", `{"parent":"root"}`, "create zr again", 201)
	clock.Advance(time.Minute)
	for _, e := range auditEvents(t, ts, "zr", 100) {
		if e.Run == old.Run.ID {
			t.Errorf("the new zr lists %s (%s) of the deleted zr's run %s",
				e.Action, e.Outcome, e.Run)
		}
	}
}
