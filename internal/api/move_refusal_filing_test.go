package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestRefusedMoveFiledWhereItWasAndWhereItGoes: a key that reads team-a and administers team-b
// tries to move team-a's stack into team-b and is refused. The refusal is filed as an applied
// move is, under both spaces, so team-a's trail holds the attempt on its stack, and its detail
// names neither, so team-b's auditors read no other team's space id.
// Guards against: admin_kinds.go authorizeChange filing a refusal under need.admin[0] alone with
// a detail naming the other space.
func TestRefusedMoveFiledWhereItWasAndWhereItGoes(t *testing.T) {
	k := &keptEvents{}
	e := newAdminEnv(t, adminTestFile(), k)
	if w := e.put("boss", "/v1/stacks/app", `{"space":"team-a"}`); w.Code != http.StatusCreated {
		t.Fatalf("setup: %d %s", w.Code, w.Body)
	}
	mover := createKeyWith(t, e, `{"id":"mover","bindings":[{"role":"reader","space":"team-a"},{"role":"admin","space":"team-b"}]}`)
	if w := e.put(mover, "/v1/stacks/app", `{"space":"team-b"}`); w.Code != http.StatusForbidden {
		t.Fatalf("move without space:admin on team-a: %d %s, want 403", w.Code, w.Body)
	}
	ev, ok := eventOf(k, "PUT /v1/stacks/app", "denied")
	if !ok {
		t.Fatalf("no denied event among %+v", k.events)
	}
	filed := append([]string{ev.Run.Space}, ev.Also...)
	if !slices.Contains(filed, "team-a") || !slices.Contains(filed, "team-b") {
		t.Errorf("refused move filed under %v, want team-a and team-b among them", filed)
	}
	if strings.Contains(ev.Detail, "team-a") || strings.Contains(ev.Detail, "team-b") {
		t.Errorf("refused move's detail %q names a space; each team's auditors would read the other's id", ev.Detail)
	}
}
