package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// adminTestKey is an API key whose secret is its own id (test only).
func adminTestKey(id string, bindings ...config.Binding) config.APIKey {
	sum := sha256.Sum256([]byte(id))
	return config.APIKey{ID: id, SecretSHA256: hex.EncodeToString(sum[:]), Bindings: bindings}
}

// secretAuth authenticates "Bearer <secret>" against the catalog in force.
type secretAuth struct{ m *catalog.Manager }

func (a secretAuth) authenticate(r *http.Request) (access.Principal, error) {
	return a.m.Live().Load().Access().Authenticate(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
}
func (secretAuth) recordUnauthenticated(*http.Request, Event, error) {}

// adminTestFile: root → prod (inherit) → team-a, team-b (inherit); an integration in prod. Roles:
// all (every action), admin (space:admin), reader (run:read). Keys: boss (all on root),
// a-admin (admin on team-a), a-all (all on team-a), b-admin (admin on team-b).
func adminTestFile() catalog.Objects {
	return catalog.Objects{
		Spaces: []config.Space{{ID: "root"}, {ID: "prod", Parent: "root", Inherit: true},
			{ID: "team-a", Parent: "prod", Inherit: true}, {ID: "team-b", Parent: "prod", Inherit: true}},
		Integrations: []config.Integration{{ID: "aws-p", Space: "prod", AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/p"}}},
		Roles: []config.Role{{ID: "all", Actions: config.Actions}, {ID: "admin", Actions: []string{config.ActionSpaceAdmin}},
			{ID: "reader", Actions: []string{config.ActionRunRead}}},
		APIKeys: []config.APIKey{
			adminTestKey("boss", config.Binding{Role: "all", Space: "root"}),
			adminTestKey("a-admin", config.Binding{Role: "admin", Space: "team-a"}),
			adminTestKey("a-all", config.Binding{Role: "all", Space: "team-a"}),
			adminTestKey("b-admin", config.Binding{Role: "admin", Space: "team-b"}),
		},
	}
}

// adminEnv is an Admin mounted on a Router over a fresh in-memory catalog.
type adminEnv struct {
	m  *catalog.Manager
	rt *Router
}

// newAdminEnv mounts an Admin recording its changes to events over a catalog of file.
func newAdminEnv(t *testing.T, file catalog.Objects, events Recorder) *adminEnv {
	t.Helper()
	m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: catalog.NewMemory(), File: file})
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRouter()
	NewAdmin(AdminConfig{Catalog: m, Auth: secretAuth{m: m}, Events: events}).Mount(rt)
	return &adminEnv{m: m, rt: rt}
}

// put sends PUT path with the JSON body as the API key whose secret is key.
func (e *adminEnv) put(key, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return e.serve(key, r)
}

// del sends DELETE path as the API key whose secret is key.
func (e *adminEnv) del(key, path string) *httptest.ResponseRecorder {
	return e.serve(key, httptest.NewRequest(http.MethodDelete, path, nil))
}

// serve answers r sent as the API key whose secret is key.
func (e *adminEnv) serve(key string, r *http.Request) *httptest.ResponseRecorder {
	r.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	e.rt.ServeHTTP(w, r)
	return w
}

// envelopeCode is the error envelope's code of w, empty when w holds none.
func envelopeCode(w *httptest.ResponseRecorder) string {
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &env)
	return env.Error.Code
}

// TestIntegrationMoveNeedsAdminOnTheOldSpace pins that moving an integration out of a space takes
// space:admin there too: a key administering team-a may not pull team-b's integration (its cloud
// identity) into team-a.
// Guards against: admin_kinds.go:276 put drops need.admin of the old object
func TestIntegrationMoveNeedsAdminOnTheOldSpace(t *testing.T) {
	e := newAdminEnv(t, adminTestFile(), &keptEvents{})
	if w := e.put("boss", "/v1/integrations/aws-b", `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/b"}}`); w.Code != http.StatusCreated {
		t.Fatalf("creating aws-b in team-b: %d %s", w.Code, w.Body)
	}
	w := e.put("a-all", "/v1/integrations/aws-b", `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/b"}}`)
	if w.Code != http.StatusForbidden || envelopeCode(w) != "forbidden" {
		t.Errorf("a key without space:admin on team-b moving its integration into team-a: %d %s, want 403", w.Code, w.Body)
	}
	if in, _ := e.m.Live().Load().Integration("aws-b"); in.Space != "team-b" {
		t.Errorf("integration aws-b is now in %q, want team-b", in.Space)
	}
}

// failingRecorder is a Recorder whose trail cannot be written.
type failingRecorder struct{}

func (failingRecorder) Record(context.Context, Event) error {
	return fmt.Errorf("%w: audit store down", audit.ErrUnavailable)
}

// TestAdminChangeNotAppliedWithoutItsEvent pins that a change whose audit event cannot be recorded
// (the trail is unavailable) is refused with 503 unavailable and not applied: no change is in force
// without its event.
// Guards against: admin_events.go:33 changeRecord.Before returns nil when Record fails
func TestAdminChangeNotAppliedWithoutItsEvent(t *testing.T) {
	e := newAdminEnv(t, adminTestFile(), failingRecorder{})
	w := e.put("boss", "/v1/stacks/app", `{"space":"team-a"}`)
	if w.Code != http.StatusServiceUnavailable || envelopeCode(w) != "unavailable" {
		t.Errorf("PUT of a stack while the audit trail cannot be written: %d %s, want 503 unavailable", w.Code, w.Body)
	}
	if _, ok := e.m.Live().Load().Stack("app"); ok {
		t.Error("the stack was created although its audit event was not recorded")
	}
}

// TestBodyOfExactly64KiBIsAccepted pins the body cap's boundary: a body of exactly 64 KiB is read
// (only bodies over 64 KiB get 413).
// Guards against: admin.go:214 readBody ContentLength > MaxBodyBytes → >=
func TestBodyOfExactly64KiBIsAccepted(t *testing.T) {
	e := newAdminEnv(t, adminTestFile(), &keptEvents{})
	body := `{"space":"team-a"}`
	body += strings.Repeat(" ", MaxBodyBytes-len(body))
	if w := e.put("boss", "/v1/stacks/app", body); w.Code != http.StatusCreated {
		t.Errorf("PUT of a stack with a body of exactly %d bytes: %d %s, want 201", len(body), w.Code, w.Body)
	}
	over := body + " "
	if w := e.put("boss", "/v1/stacks/app2", over); w.Code != http.StatusRequestEntityTooLarge || envelopeCode(w) != "too_large" {
		t.Errorf("PUT with a body of %d bytes: %d %s, want 413 too_large", len(over), w.Code, w.Body)
	}
}

// TestDeletedStackTakesItsAttachmentsAlong: deleting a stack deletes its direct attachments in
// the same change, rather than being refused as still in use, and a stack created later under
// the same id starts with none: it never inherits the write attachment its predecessor was
// given.
// Guards against: admin_kinds.go the stack's cascade left off its deletion (409 in use)
func TestDeletedStackTakesItsAttachmentsAlong(t *testing.T) {
	e := newAdminEnv(t, adminTestFile(), &keptEvents{})
	for _, step := range []struct{ path, body string }{
		{"/v1/stacks/app", `{"space":"team-a"}`},
		{"/v1/stacks/app/attachments/aws-p", `{"read":true,"write":true}`},
	} {
		if w := e.put("boss", step.path, step.body); w.Code != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", step.path, w.Code, w.Body)
		}
	}
	if w := e.del("boss", "/v1/stacks/app"); w.Code != http.StatusNoContent && w.Code != http.StatusOK {
		t.Fatalf("DELETE the stack: %d %s", w.Code, w.Body)
	}
	if w := e.put("boss", "/v1/stacks/app", `{"space":"team-a"}`); w.Code != http.StatusCreated {
		t.Fatalf("creating the stack again: %d %s", w.Code, w.Body)
	}
	if e.m.Live().Load().Attached("app", "aws-p") {
		t.Error("the stack created again holds the attachment of the stack deleted before it")
	}
	if w := e.serve("boss", httptest.NewRequest(http.MethodGet, "/v1/stacks/app/attachments", nil)); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "aws-p") {
		t.Errorf("attachments of the stack created again: %d %s, want none", w.Code, w.Body)
	}
}
