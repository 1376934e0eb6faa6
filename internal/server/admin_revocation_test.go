package server

import "testing"

// TestStackRunsEndWithTheirStack: a run belongs to its stack in the space it was started in.
// Deleting the stack ends its runs, and GET shows them finished; re-creating the stack in
// another space, or moving it there, does not bring them back into that space's credentials.
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
	ts.admin(t, "PUT", "/v1/stacks/phoenix", `{"space":"team-a"}`).expect(t, "re-create in another space", 201)
	if code := mintCode(old.RunToken); code != 401 {
		t.Errorf("a run of a deleted stack revives when the stack is re-created in another space: %d", code)
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
