package server

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// TestOldRunEventsStayOutOfRebornSpace: a space deleted and created again under the same
// id is another space, so an audit:read key of the new one lists only its own subtree's events:
// neither the root key's finish of a run of the deleted space, nor another key's refused read of
// that run, recorded after the id came back, is listed under the new space.
func TestOldRunEventsStayOutOfRebornSpace(t *testing.T) {
	clock := fakeclock.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	ts := startServer(t, serverOptions{baseYAML: adminConfig, now: clock.Now, quiet: true})
	ts.admin(t, "PUT", "/v1/spaces/zs", `{"parent":"root"}`).expect(t, "create the space", 201)
	ts.admin(t, "PUT", "/v1/stacks/zs-old", `{"space":"zs"}`).expect(t, "create its stack", 201)
	clock.Advance(3 * time.Second)
	var old runAnswer
	body := map[string]string{"stack": "zs-old", "runType": "TRACKED"}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs",
		bearer: rootAdminSecret, body: body, out: &old}); code != 201 {
		t.Fatalf("start the old space's run: %d", code)
	}
	clock.Advance(time.Second)
	ts.admin(t, "DELETE", "/v1/stacks/zs-old", "").expect(t, "delete the stack", 204)
	ts.admin(t, "DELETE", "/v1/spaces/zs", "").expect(t, "delete the space", 204)
	clock.Advance(time.Minute)
	ts.admin(t, "PUT", "/v1/spaces/zs", `{"parent":"root"}`).expect(t, "create zs again", 201)
	clock.Advance(time.Minute)
	path := "/v1/runs/" + old.Run.ID
	if code := ts.call(t, apiRequest{method: "GET", path: path, bearer: adminSecret}); code != 404 {
		t.Fatalf("key ci (prod) reads the old run: %d, want 404", code)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: path + "/finish",
		bearer: rootAdminSecret}); code != 200 {
		t.Fatalf("root admin finishes the old run: %d, want 200", code)
	}
	for _, space := range []string{"zs"} {
		for _, e := range auditEvents(t, ts, space, 100) {
			if e.Run == old.Run.ID {
				t.Errorf("%s lists %s (%s, stack %s) of the deleted zs's run %s",
					space, e.Action, e.Outcome, e.Stack, e.Run)
			}
		}
	}
}

// TestMovedSpaceListsItsNewRunsEvents: a space's audit listing holds every event of its
// subtree from when it took its place: a run started in it right after it moved (the run counts
// as begun when the space counts as placed) and the token handed out for that run are listed
// under the space, not only under its parent.
func TestMovedSpaceListsItsNewRunsEvents(t *testing.T) {
	clock := fakeclock.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	ts := startServer(t, serverOptions{baseYAML: adminConfig, now: clock.Now, quiet: true})
	ts.admin(t, "PUT", "/v1/spaces/zs", `{"parent":"root"}`).expect(t, "create the space", 201)
	ts.admin(t, "PUT", "/v1/stacks/zs-stack", `{"space":"zs"}`).expect(t, "create its stack", 201)
	clock.Advance(time.Minute)
	ts.admin(t, "PUT", "/v1/spaces/zs", `{"parent":"prod"}`).expect(t, "move it", 200)
	var run runAnswer
	body := map[string]string{"stack": "zs-stack", "runType": "TRACKED", "phase": "APPLYING"}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs",
		bearer: rootAdminSecret, body: body, out: &run}); code != 201 {
		t.Fatalf("start a run in the moved space: %d", code)
	}
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("mint for the new run: %d", code)
	}
	clock.Advance(time.Minute)
	listed := map[string]bool{}
	for _, e := range auditEvents(t, ts, "zs", 100) {
		if e.Run == run.Run.ID {
			listed[e.Action] = true
		}
	}
	for _, action := range []string{"run.create", "token.issue"} {
		if !listed[action] {
			t.Errorf("zs does not list the %s of its own run %s (listed: %v)",
				action, run.Run.ID, listed)
		}
	}
}
