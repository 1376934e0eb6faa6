package server

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
)

// Moving an object out of a space changes that space's subtree (a stack leaves and its runs
// end, a space leaves with everything under it): the put event is filed under the old place as
// well as the new, so an auditor bound to the old space sees what left it.
func TestMoveIsInTheOldSpacesTrail(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	for _, c := range []struct {
		path, create, move string
		status             int
	}{
		{"/v1/stacks/mv", `{"space":"prod"}`, `{"space":"dev"}`, 201},
		{"/v1/spaces/mvspace", `{"parent":"prod"}`, `{"parent":"dev"}`, 201},
	} {
		if code := ts.call(t, apiRequest{method: "PUT", path: c.path, bearer: rootAdminSecret, body: c.create}); code != c.status {
			t.Fatalf("create %s: %d", c.path, code)
		}
		if code := ts.call(t, apiRequest{method: "PUT", path: c.path, bearer: rootAdminSecret, body: c.move}); code != 200 {
			t.Fatalf("move %s: %d", c.path, code)
		}
	}
	count := func(space, action, id string) int {
		n := 0
		for _, e := range auditEvents(t, ts, space, 200) {
			if e.Action == action && strings.Contains(e.Detail, id) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct{ space, action, id string }{
		{"prod", "stack.put", "stack mv "}, {"dev", "stack.put", "stack mv "},
		{"prod", "space.put", "space mvspace "}, {"dev", "space.put", "space mvspace "},
	} {
		want := 2 // created in prod, then moved out of it
		if c.space == "dev" {
			want = 1 // moved in
		}
		if got := count(c.space, c.action, c.id); got != want {
			t.Errorf("%s's trail holds %d %s events of %s, want %d", c.space, got, c.action, c.id, want)
		}
	}
}

// An API key created (and deleted) with bindings on several spaces gains (loses) rights in each
// of them: its events are filed under every bound space, so an auditor of any of them sees that
// a key able to act there appeared or went.
func TestAPIKeyEventsFiledUnderEveryBoundSpace(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	body := `{"id":"multi","bindings":[{"role":"orchestrator","space":"prod"},{"role":"orchestrator","space":"dev"}]}`
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret, body: body}); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if code := ts.call(t, apiRequest{method: "DELETE", path: "/v1/api-keys/multi", bearer: rootAdminSecret}); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	seen := map[string]map[string]bool{}
	for _, sp := range []string{"prod", "dev"} {
		seen[sp] = map[string]bool{}
		for _, e := range auditEvents(t, ts, sp, 100) {
			if e.Action == "api_key.create" || e.Action == "api_key.delete" {
				seen[sp][e.Action] = true
			}
		}
	}
	for _, sp := range []string{"prod", "dev"} {
		for _, a := range []string{"api_key.create", "api_key.delete"} {
			if !seen[sp][a] {
				t.Errorf("space %s, bound by key multi, lists no %s event", sp, a)
			}
		}
	}
}

// A space of the file removed by one reload and given again, under another parent, by a later
// reload does not list the events of the space that had the id before, as a space deleted and
// created again through the API does not.
func TestFileSpaceRemovedThenGivenAgainListsNoOldEvents(t *testing.T) {
	ctx := context.Background()
	ts := startServer(t, serverOptions{})
	base := *ts.srv.cfg
	reload := func(spaces []config.Space, stacks []config.Stack) {
		t.Helper()
		next := base
		next.Spaces = append(slices.Clone(base.Spaces), spaces...)
		next.Stacks = append(slices.Clone(base.Stacks), stacks...)
		if err := ts.srv.Reload(ctx, &next, nil); err != nil {
			t.Fatal(err)
		}
	}
	reload([]config.Space{{ID: "secret-proj", Parent: "prod"}}, []config.Stack{{ID: "secret-db", Space: "secret-proj"}})
	old := ts.createRun(t, "secret-db", "TRACKED")
	reload(nil, nil)
	time.Sleep(5 * time.Millisecond)
	reload([]config.Space{{ID: "secret-proj", Parent: "dev"}}, nil)
	for _, e := range auditEvents(t, ts, "secret-proj", 100) {
		if e.Run == old.Run.ID || e.Stack == "secret-db" {
			t.Errorf("the space given again by the file (now under dev) lists an event of the old one under prod: %s %s run=%s", e.Action, e.Space, e.Run)
		}
	}
}

// TestDeletedSpaceIsInItsParentsTrail: a space's listing holds its subtree's events, so an
// admin bound on prod who creates and deletes a child space sees both events in prod's
// listing, though the child is gone.
func TestDeletedSpaceIsInItsParentsTrail(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/spaces/gone", bearer: parentSecret, body: `{"parent":"prod"}`}); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if code := ts.call(t, apiRequest{method: "DELETE", path: "/v1/spaces/gone", bearer: parentSecret}); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	var ans struct {
		Events []audit.Event `json:"events"`
	}
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/audit?space=prod&limit=1000", bearer: parentSecret, out: &ans}); code != 200 {
		t.Fatalf("listing: %d", code)
	}
	seen := map[string]bool{}
	for _, e := range ans.Events {
		if e.Space == "gone" {
			seen[e.Action] = true
		}
	}
	if !seen["space.put"] || !seen["space.delete"] {
		t.Errorf("prod's trail, listed by prod's admin, holds these events of its child space gone: %v; want space.put and space.delete", seen)
	}
}
