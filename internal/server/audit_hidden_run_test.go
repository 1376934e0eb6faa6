package server

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
)

// auditListingAs returns every event the audit listing of space shows to the key secret.
func auditListingAs(t *testing.T, ts *testServer, space, secret string) []audit.Event {
	t.Helper()
	var all []audit.Event
	after := ""
	for range 100 {
		var ans struct {
			Events []audit.Event `json:"events"`
			Next   string        `json:"next"`
		}
		q := url.Values{"space": {space}}
		if after != "" {
			q.Set("after", after)
		}
		path := "/v1/audit?" + q.Encode()
		if code := ts.call(t, apiRequest{method: "GET", path: path, bearer: secret,
			out: &ans}); code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		all = append(all, ans.Events...)
		if after = ans.Next; after == "" {
			return all
		}
	}
	t.Fatal("audit paging never ends")
	return nil
}

// recreateElsewhere starts a run of stack old-stack in a space old under team-a, deletes the stack
// and the space through the API, declares a new space old under dev in the file (the only way
// a deleted space's id comes back elsewhere) and returns the old run's id.
func recreateElsewhere(t *testing.T, ts *testServer) string {
	t.Helper()
	ts.admin(t, "PUT", "/v1/spaces/old", `{"parent":"team-a"}`).expect(t, "space", 201)
	ts.admin(t, "PUT", "/v1/stacks/old-stack", `{"space":"old"}`).expect(t, "stack", 201)
	run := ts.createRun(t, "old-stack", "TRACKED")
	ts.admin(t, "DELETE", "/v1/stacks/old-stack", "").expect(t, "delete stack", 204)
	ts.admin(t, "DELETE", "/v1/spaces/old", "").expect(t, "delete space", 204)
	next := *ts.srv.cfg
	next.Spaces = append(slices.Clone(next.Spaces), config.Space{ID: "old", Parent: "dev"})
	if err := ts.srv.Reload(context.Background(), &next, nil); err != nil {
		t.Fatal(err)
	}
	return run.Run.ID
}

// TestHiddenRunEventsStayOutOfNewPlace: a run whose space was deleted belongs to its old
// place (only root reaches it), and a new space later declared under another parent with the
// same id is another space. No event about the old run, neither the refusal of a key that
// guessed its id nor root's finish of it, may show in the audit listing of the new space's
// parent to a key bound there: that key has no business with the old run, and the listing
// would tell it that the run exists and name its stack. They are root's, in root's listing.
func TestHiddenRunEventsStayOutOfNewPlace(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	runID := recreateElsewhere(t, ts)
	devKey := keyBound(t, ts, "dev-auditor", `[{"role":"auditor","space":"dev"}]`)
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + runID,
		bearer: devKey}); code != 404 {
		t.Fatalf("GET the old run with dev's key: %d, want 404", code)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + runID + "/finish",
		bearer: rootAdminSecret}); code != 200 {
		t.Fatalf("root finishes the old run: %d, want 200", code)
	}
	finished := false
	for _, e := range auditListingAs(t, ts, config.RootSpace, rootAdminSecret) {
		finished = finished || e.Run == runID && e.Action == "run.finish"
	}
	if !finished {
		t.Error("root's listing lacks the finish of the old run: its events must stay in sight")
	}
	for _, space := range []string{"dev", "old"} {
		for _, e := range auditListingAs(t, ts, space, devKey) {
			if e.Run == runID {
				t.Errorf("?space=%s shows dev's key %s (%s) of run %s of the deleted space "+
					"old, stack %s", space, e.Action, e.Outcome, e.Run, e.Stack)
			}
		}
	}
}
