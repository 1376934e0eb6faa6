package server

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// TestStackRunsEndWithTheirStack: a run belongs to its stack in the space it was started in.
// Deleting the stack ends its runs, and GET shows them finished; re-creating the stack (only in
// its old space: elsewhere its id is refused), or moving it to another space, does not bring
// them back.
func TestStackRunsEndWithTheirStack(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	mintCode := func(token string) int {
		t.Helper()
		_, code := ts.mint(t, token, "aud")
		return code
	}

	ts.admin(t, "PUT", "/v1/stacks/phoenix", `{"space":"prod"}`).expect(t, "create", 201)
	old := ts.createRun(t, "phoenix", "TRACKED")
	if code := mintCode(old.RunToken); code != 200 {
		t.Fatalf("mint before delete: %d", code)
	}
	ts.admin(t, "DELETE", "/v1/stacks/phoenix", "").expect(t, "delete", 204)
	if code := mintCode(old.RunToken); code != 401 {
		t.Fatalf("mint after delete: %d", code)
	}
	// The control plane sees the run ended, as it is: finished, read.
	ts.admin(t, "GET", "/v1/runs/"+old.Run.ID, "").expect(t, "the run of a deleted stack", 200, `"phase":"FINISHED","scope":"read"`)
	ts.admin(t, "PUT", "/v1/stacks/phoenix", `{"space":"team-a"}`).expect(t, "re-create in another space", 409, `comes back only where it was`)
	ts.admin(t, "PUT", "/v1/stacks/phoenix", `{"space":"prod"}`).expect(t, "re-create in its space", 201)
	if code := mintCode(old.RunToken); code != 401 {
		t.Errorf("a run of a deleted stack revives when the stack is re-created: %d", code)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + old.Run.ID + "/phase", bearer: adminSecret, body: map[string]string{"phase": "APPLYING"}}); code == 200 {
		if code := mintCode(old.RunToken); code != 401 {
			t.Errorf("the revived run reaches its write phase in the new space: %d", code)
		}
	}

	ts.admin(t, "PUT", "/v1/stacks/mover", `{"space":"prod"}`).expect(t, "create", 201)
	run := ts.createRun(t, "mover", "TRACKED")
	ts.admin(t, "PUT", "/v1/stacks/mover", `{"space":"team-b"}`).expect(t, "move", 200)
	if code := mintCode(run.RunToken); code != 401 {
		t.Errorf("a run started in prod still mints after its stack moved to team-b: %d", code)
	}
	// New runs of the moved stack are in its new space.
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: rootAdminSecret, body: map[string]string{"stack": "mover", "runType": "TRACKED"}}); code != 201 {
		t.Errorf("a run of the moved stack: %d", code)
	}
}

// TestRetiredIDsComeBackOnlyInTheirPlace: the cloud trust policies written for a stack name its
// id (an AWS ExternalId names no space, and a subject template need not), and those of a space's
// stacks its id. An id that a deleted stack or space held is refused anywhere but the place it
// left (409), also to an administrator who may create there, so team-b's admin cannot take up
// the id of a stack or space retired from prod and with it prod's access; in the old place it
// comes back.
func TestRetiredIDsComeBackOnlyInTheirPlace(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	call := func(secret, method, path, body string, want int, says string) {
		t.Helper()
		var out envelope
		code := ts.call(t, apiRequest{method: method, path: path, bearer: secret, body: body, out: &out})
		if code != want || !strings.Contains(out.Error.Message, says) {
			t.Errorf("%s %s: %d %q, want %d saying %q", method, path, code, out.Error.Message, want, says)
		}
	}
	call(parentSecret, "PUT", "/v1/spaces/payments", `{"parent":"prod"}`, 201, "")
	call(parentSecret, "PUT", "/v1/stacks/api", `{"space":"payments"}`, 201, "")
	call(parentSecret, "PUT", "/v1/stacks/web", `{"space":"prod"}`, 201, "")
	call(parentSecret, "DELETE", "/v1/stacks/api", "", 204, "")
	call(parentSecret, "DELETE", "/v1/stacks/web", "", 204, "")
	call(parentSecret, "DELETE", "/v1/spaces/payments", "", 204, "")

	// The refusal names no place: the caller may hold no binding on the one the id left.
	call(siblingSecret, "PUT", "/v1/spaces/payments", `{"parent":"team-b"}`, 409, `space deleted from another parent`)
	call(siblingSecret, "PUT", "/v1/stacks/web", `{"space":"team-b"}`, 409, `stack deleted from another space`)
	call(rootAdminSecret, "PUT", "/v1/stacks/web", `{"space":"team-b"}`, 409, `comes back only where it was`)
	var out envelope
	ts.call(t, apiRequest{method: "PUT", path: "/v1/stacks/web", bearer: siblingSecret, body: `{"space":"team-b"}`, out: &out})
	if strings.Contains(out.Error.Message, `"prod"`) {
		t.Errorf("the refusal names the place the id left: %q", out.Error.Message)
	}
	call(parentSecret, "PUT", "/v1/spaces/payments", `{"parent":"prod"}`, 201, "")
	call(parentSecret, "PUT", "/v1/stacks/api", `{"space":"payments"}`, 201, "")
	call(parentSecret, "PUT", "/v1/stacks/web", `{"space":"prod"}`, 201, "")
}

// TestMovedSpaceEndsItsRuns: a space moved to another parent takes its stacks' runs with it, as
// a stack moved to another space does: the key that started them no longer reaches them, and
// the new place's keys never allowed them. A run at write gets no more tokens after the move.
func TestMovedSpaceEndsItsRuns(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	ts.admin(t, "PUT", "/v1/spaces/sa", `{"parent":"team-a","inherit":true}`).expect(t, "create sa", 201)
	ts.admin(t, "PUT", "/v1/spaces/sb", `{"parent":"sa","inherit":true}`).expect(t, "create sb", 201)
	ts.admin(t, "PUT", "/v1/stacks/st-sb", `{"space":"sb"}`).expect(t, "create st-sb", 201)
	run := ts.createRun(t, "st-sb", "TRACKED")
	for _, phase := range []string{"PLANNING", "APPLYING"} {
		if code := ts.setPhase(t, run.Run.ID, phase); code != 200 {
			t.Fatalf("%s: %d", phase, code)
		}
	}
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("mint before the move: %d", code)
	}
	// sa moves from prod's subtree to dev's, sb (and its stack) with it.
	ts.admin(t, "PUT", "/v1/spaces/sa", `{"parent":"dev","inherit":true}`).expect(t, "move sa under dev", 200)
	if _, code := ts.mint(t, run.RunToken, ""); code != 401 {
		t.Errorf("a run in a space whose ancestor moved from prod to dev mints: %d, want 401", code)
	}
	// A run started after the move, in the new place, works.
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: rootAdminSecret, body: map[string]string{"stack": "st-sb", "runType": "TRACKED"}}); code != 201 {
		t.Errorf("a run of the moved space's stack: %d", code)
	}
}

// TestSpaceMovedInTheFileEndsItsRuns: likewise for a file space given another parent on a reload.
func TestSpaceMovedInTheFileEndsItsRuns(t *testing.T) {
	ts := startServer(t, serverOptions{})
	run := ts.createRun(t, "app-a", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("mint before the move: %d", code)
	}
	next := *ts.srv.cfg
	next.Spaces = slices.Clone(next.Spaces)
	for i := range next.Spaces {
		if next.Spaces[i].ID == "team-a" {
			next.Spaces[i].Parent = "root"
		}
	}
	if err := ts.srv.Reload(context.Background(), &next, nil); err != nil {
		t.Fatal(err)
	}
	if _, code := ts.mint(t, run.RunToken, ""); code != 401 {
		t.Errorf("a run in team-a, moved in the file from prod to root, mints: %d, want 401", code)
	}
}

// TestRunStartIsNeverFarAhead: a stack placed while the replica's clock ran a month ahead, the
// clock corrected since, gets no run dated a month ahead (which would outlive runs.ttl by the
// month, and outlast a deletion and re-creation of its stack): the start is refused (503) until
// the clock reaches the stack's placing, and a run started then lives runs.ttl.
func TestRunStartIsNeverFarAhead(t *testing.T) {
	start := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	clock := fakeclock.New(start)
	ts := startServer(t, serverOptions{baseYAML: adminConfig, now: clock.Now})
	clock.Advance(30 * 24 * time.Hour)
	ts.admin(t, "PUT", "/v1/stacks/ahead", `{"space":"prod"}`).expect(t, "create the stack with the clock ahead", 201)
	clock.Set(start.Add(time.Minute))
	body := map[string]string{"stack": "ahead", "runType": "TRACKED"}
	var env envelope
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: adminSecret, body: body, out: &env}); code != 503 || !strings.Contains(env.Error.Message, "clock is ahead") {
		t.Errorf("a run of a stack placed a month ahead: %d %q, want 503", code, env.Error.Message)
	}
	clock.Set(start.Add(30*24*time.Hour + time.Second))
	run := ts.createRun(t, "ahead", "TRACKED")
	if life := run.Run.ExpiresAt.Sub(clock.Now()); life > 3*time.Hour {
		t.Errorf("a run started once the clock caught up expires %s from now, want at most runs.ttl (3h)", life)
	}
}

// TestMovedSpaceListsItsEventsFromItsMove: a space moved to another parent lists its events from
// its move on, so that the auditors of its new place do not read what happened under its old
// one; those events stay in the listing of the ancestors it had, and a space changed without a
// move keeps its whole history.
func TestMovedSpaceListsItsEventsFromItsMove(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	lists := func(space, run string) bool {
		t.Helper()
		for _, e := range auditEvents(t, ts, space, 100) {
			if e.Run == run {
				return true
			}
		}
		return false
	}
	for _, id := range []string{"moving", "staying"} {
		ts.admin(t, "PUT", "/v1/spaces/"+id, `{"parent":"team-a","inherit":true}`).expect(t, "create "+id, 201)
		ts.admin(t, "PUT", "/v1/stacks/"+id+"-stack", `{"space":"`+id+`"}`).expect(t, "create its stack", 201)
	}
	moving, staying := ts.createRun(t, "moving-stack", "TRACKED"), ts.createRun(t, "staying-stack", "TRACKED")
	ts.admin(t, "PUT", "/v1/spaces/moving", `{"parent":"dev","inherit":true}`).expect(t, "move under dev", 200)
	ts.admin(t, "PUT", "/v1/spaces/staying", `{"parent":"team-a","inherit":true,"labels":["x"]}`).expect(t, "relabel", 200)
	if lists("moving", moving.Run.ID) {
		t.Error("the moved space lists an event from before its move")
	}
	if !lists("team-a", moving.Run.ID) {
		t.Error("the moved space's old parent no longer lists the event recorded under it")
	}
	if !lists("staying", staying.Run.ID) {
		t.Error("a space changed without a move lost its history")
	}
}
