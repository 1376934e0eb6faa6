package server

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestChangeValuesStayInTheirSpaces: an event filed under several spaces (a stack moved from one
// team to another, an API key bound on both) quotes no values: the auditors of one team would
// read the other's space ids and bindings. Filed under one space, the same changes quote them.
func TestChangeValuesStayInTheirSpaces(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	ts.admin(t, "PUT", "/v1/stacks/mover", `{"space":"team-a","labels":["x"]}`).expect(t, "stack", 201)
	ts.admin(t, "PUT", "/v1/stacks/mover", `{"space":"team-b","labels":["y"]}`).expect(t, "stack moved", 200)
	ts.admin(t, "POST", "/v1/api-keys", `{"id":"two-teams","bindings":[{"role":"admin","space":"team-a"},{"role":"orchestrator","space":"team-b"}]}`).expect(t, "key on two teams", 201)
	ts.admin(t, "DELETE", "/v1/api-keys/two-teams", "").expect(t, "key deleted", 204)
	ts.admin(t, "POST", "/v1/api-keys", `{"id":"one-team","bindings":[{"role":"admin","space":"team-b"}]}`).expect(t, "key on one team", 201)

	details := map[string]string{}
	for _, e := range auditEvents(t, ts, "team-b", 100) {
		details[e.Action+" "+e.Detail] = e.Detail
		if strings.Contains(e.Detail, "team-a") || strings.Contains(e.Detail, `"x"`) {
			t.Errorf("team-b's listing shows team-a's place or values: %s %s", e.Action, e.Detail)
		}
	}
	for _, want := range []string{
		"stack.put stack mover replaced with version 2; changed: labels, space; the stack's unfinished runs end",
		`api_key.create created API key "two-teams" with 2 binding(s)`,
		"api_key.delete api_key two-teams deleted; the unfinished runs it started end",
		`api_key.create created API key "one-team" with 1 binding(s): admin on team-b`,
	} {
		if _, ok := details[want]; !ok {
			t.Errorf("team-b's listing lacks %q; it has %q", want, slices.Sorted(maps.Keys(details)))
		}
	}
}
