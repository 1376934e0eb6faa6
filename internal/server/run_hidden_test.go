package server

import (
	"strings"
	"testing"
)

// TestRunInHiddenSpaceIsNotFound: a key none of whose bindings covers a run's space gets, on
// GET, /phase and /finish, the 404 of a run that does not exist, naming no space; the attempt is
// recorded as denied in the run's space, where its administrators see it.
func TestRunInHiddenSpaceIsNotFound(t *testing.T) {
	ts := startServer(t, serverOptions{})
	prodRun := ts.createRun(t, "vpc-prod", "TRACKED")
	unknown := "01JZZZZZZZZZZZZZZZZZZZZZZZ"
	var want string
	for i, id := range []string{unknown, prodRun.Run.ID} {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/v1/runs/" + id, nil},
			{"POST", "/v1/runs/" + id + "/phase", map[string]string{"phase": "PLANNING"}},
			{"POST", "/v1/runs/" + id + "/finish", nil},
		} {
			var env struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			code := ts.call(t, apiRequest{method: c.method, path: c.path, bearer: limitedSecret, body: c.body, out: &env})
			got := strings.ReplaceAll(env.Error.Message, id, "ID")
			if i == 0 {
				want = got // the answer for a run that does not exist
			}
			if code != 404 || env.Error.Code != "not_found" || got != want || strings.Contains(got, "prod") {
				t.Errorf("%s %s: %d %s %q, want the 404 of a run that does not exist (%q)", c.method, c.path, code, env.Error.Code, env.Error.Message, want)
			}
		}
	}
	denied := 0
	for _, e := range auditEvents(t, ts, "prod", 100) {
		if e.Actor == "api_key:dev-ci" && e.Outcome == "denied" && e.Run == prodRun.Run.ID {
			denied++
		}
	}
	if denied != 3 {
		t.Errorf("%d denied events of dev-ci on the prod run in prod's trail, want 3", denied)
	}
	var got runAnswer
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + prodRun.Run.ID, bearer: adminSecret, out: &got}); code != 200 || got.Run.Phase != prodRun.Run.Phase {
		t.Errorf("the prod run: %d in %s after the refused changes, want 200 in %s", code, got.Run.Phase, prodRun.Run.Phase)
	}
}
