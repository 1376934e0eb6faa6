package server

import (
	"strings"
	"testing"
)

// TestMultiPlaceEventNamesNoOtherTeam checks that an event filed under several spaces (a stack
// moved from one team to another, an API key bound on both) names no other team's space to one
// team's auditors, in its space field (which every listing showing it returns) as in its detail.
func TestMultiPlaceEventNamesNoOtherTeam(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	ts.admin(t, "PUT", "/v1/stacks/mover", `{"space":"team-b"}`).expect(t, "stack", 201)
	ts.admin(t, "PUT", "/v1/stacks/mover", `{"space":"team-a"}`).expect(t, "stack moved", 200)
	ts.admin(t, "POST", "/v1/api-keys",
		`{"id":"two-teams","bindings":[{"role":"admin","space":"team-a"},`+
			`{"role":"orchestrator","space":"team-b"}]}`).expect(t, "key on two teams", 201)
	for _, e := range auditEvents(t, ts, "team-b", 100) {
		if e.Space == "team-a" || strings.Contains(e.Detail, "team-a") {
			t.Errorf("team-b's listing names team-a: %s space=%q detail=%q", e.Action, e.Space, e.Detail)
		}
	}
}
