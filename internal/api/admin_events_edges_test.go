package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
)

// eventOf is the first kept event whose action is action and outcome outcome.
func eventOf(k *keptEvents, action, outcome string) (Event, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range k.events {
		if e.Action == action && e.Outcome == outcome {
			return e, true
		}
	}
	return Event{}, false
}

// TestAdminEvents pins the audit trail of administration changes: a detached attachment is
// recorded as attachment.delete, a new key's event lists its bindings as "role on space", a key
// refused a binding of a role it does not hold is recorded as a denied api_key.create under that
// space, and a refused change is filed under the first space it needed space:admin on.
// Guards against: admin_attach.go:delete records attachment.put
// Guards against: admin_keys.go:bindingsValue drops the space
// Guards against: admin_keys.go:authorizeBindings records no refusal of a role not held
// Guards against: admin_kinds.go:authorizeChange files every refusal under root
func TestAdminEvents(t *testing.T) {
	k := &keptEvents{}
	e := newAdminEnv(t, adminTestFile(), k)
	for _, step := range []struct{ path, body string }{
		{"/v1/stacks/app", `{"space":"team-a"}`},
		{"/v1/stacks/app/attachments/aws-p", `{"read":true}`},
	} {
		if w := e.put("boss", step.path, step.body); w.Code != http.StatusCreated {
			t.Fatalf("setup PUT %s: %d %s", step.path, w.Code, w.Body)
		}
	}
	if w := e.del("boss", "/v1/stacks/app/attachments/aws-p"); w.Code != http.StatusNoContent {
		t.Fatalf("DELETE attachment: %d %s", w.Code, w.Body)
	}
	if _, ok := eventOf(k, "attachment.delete", ""); !ok {
		t.Errorf("no attachment.delete event among %+v", k.events)
	}
	createKeyWith(t, e, `{"id":"k1","bindings":[{"role":"reader","space":"team-a"}]}`)
	if ev, ok := eventOf(k, "api_key.create", ""); !ok || !strings.Contains(ev.Detail, "reader on team-a") {
		t.Errorf("api_key.create event %+v (found %v), want its detail to name \"reader on team-a\"", ev, ok)
	}
	r := httptest.NewRequest(http.MethodPost, "/v1/api-keys", strings.NewReader(`{"id":"k2","bindings":[{"role":"all","space":"team-a"}]}`))
	if w := e.serve("a-admin", r); w.Code != http.StatusForbidden {
		t.Fatalf("binding a role not held: %d %s, want 403", w.Code, w.Body)
	}
	if ev, ok := eventOf(k, "api_key.create", "denied"); !ok || ev.Run.Space != "team-a" {
		t.Errorf("denied api_key.create event %+v (found %v), want one under team-a", ev, ok)
	}
	if w := e.put("a-admin", "/v1/stacks/app/attachments/aws-p", `{"write":true}`); w.Code != http.StatusForbidden {
		t.Fatalf("attach for write without run rights: %d %s, want 403", w.Code, w.Body)
	}
	if ev, ok := eventOf(k, "PUT /v1/stacks/app/attachments/aws-p", "denied"); !ok || ev.Run.Space != "team-a" {
		t.Errorf("denied attachment event %+v (found %v), want one under team-a", ev, ok)
	}
}

// countingAuth is secretAuth counting the refusals it is asked to record.
type countingAuth struct {
	secretAuth
	recorded *int
}

func (a countingAuth) recordUnauthenticated(*http.Request, Event, error) { *a.recorded++ }

// TestAdminRecordsUnauthenticated pins that an administration request with no valid key
// is recorded as a refused control-plane attempt.
// Guards against: admin.go:authenticate records no unauthenticated attempt
func TestAdminRecordsUnauthenticated(t *testing.T) {
	m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: catalog.NewMemory(), File: adminTestFile()})
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	rt := NewRouter()
	NewAdmin(AdminConfig{Catalog: m, Auth: countingAuth{secretAuth: secretAuth{m: m}, recorded: &recorded}}).Mount(rt)
	e := &adminEnv{m: m, rt: rt}
	if w := e.serve("wrong", httptest.NewRequest(http.MethodGet, "/v1/stacks", nil)); w.Code != http.StatusUnauthorized || recorded != 1 {
		t.Errorf("GET /v1/stacks with a wrong key: %d, %d attempts recorded, want 401 and 1", w.Code, recorded)
	}
}
