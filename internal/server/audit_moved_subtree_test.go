package server

import (
	"testing"
)

// TestMovedSpacesChildListsFromTheMove: a space whose ancestor moved to another parent lists
// its events from that move on, as the moved space itself does, so the auditors of the new
// place do not read, by listing a child instead of the moved space, what happened under the
// old one; those events stay in the old ancestors' listings.
func TestMovedSpacesChildListsFromTheMove(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	ts.admin(t, "PUT", "/v1/spaces/moved", `{"parent":"team-a","inherit":true}`).
		expect(t, "create", 201)
	ts.admin(t, "PUT", "/v1/spaces/kid", `{"parent":"moved","inherit":true}`).
		expect(t, "child", 201)
	ts.admin(t, "PUT", "/v1/stacks/kid-stack", `{"space":"kid"}`).
		expect(t, "stack", 201)
	old := ts.createRun(t, "kid-stack", "TRACKED")
	ts.admin(t, "PUT", "/v1/spaces/moved", `{"parent":"dev","inherit":true}`).expect(t, "move", 200)
	if !listsRun(t, ts, "team-a", old.Run.ID) {
		t.Errorf("team-a does not list run %s, recorded under it before the move", old.Run.ID)
	}
	for _, space := range []string{"moved", "kid"} {
		for _, e := range auditEvents(t, ts, space, 100) {
			if e.Run == old.Run.ID {
				t.Errorf("%s, now under dev, lists %s of run %s, recorded under team-a before the move",
					space, e.Action, e.Run)
			}
		}
	}
}

// listsRun reports whether the listing of space holds an event of run.
func listsRun(t *testing.T, ts *testServer, space, run string) bool {
	t.Helper()
	for _, e := range auditEvents(t, ts, space, 100) {
		if e.Run == run {
			return true
		}
	}
	return false
}
