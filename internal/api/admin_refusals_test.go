package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// adminCase is one administration request and the answer it must get.
type adminCase struct {
	name, key, method, path, body string
	// header, when set, is sent as is (an empty value is sent too).
	header map[string][]string
	status int
	// code is the error envelope's code; empty for a success.
	code string
	// absent must not appear in the answer's body, and holds must.
	absent, holds string
}

// check reports how w, the answer to c, differs from what c wants.
func (c adminCase) check(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != c.status || envelopeCode(w) != c.code {
		t.Errorf("%s %s: %d %q %s, want %d %q", c.method, c.path, w.Code, envelopeCode(w), w.Body, c.status, c.code)
	}
	if c.absent != "" && strings.Contains(w.Body.String(), c.absent) {
		t.Errorf("%s %s answers %s, which names %q", c.method, c.path, w.Body, c.absent)
	}
	if !strings.Contains(w.Body.String(), c.holds) {
		t.Errorf("%s %s answers %s, want it to hold %s", c.method, c.path, w.Body, c.holds)
	}
}

// refusalsEnv is an adminEnv over adminTestFile with stacks app (team-a) and bee (team-b), an
// integration aws-b in team-b that bee is attached to for write, a stack app2 in team-a, a key
// two bound on team-a and team-b, an autoattached integration aws-l in team-a attached to stack
// lab by its label, and a key root-admin holding space:admin alone on root, whose secret it
// returns.
func refusalsEnv(t *testing.T) (*adminEnv, string) {
	t.Helper()
	e := newAdminEnv(t, adminTestFile(), &keptEvents{})
	for _, step := range []struct{ path, body string }{
		{"/v1/stacks/app", `{"space":"team-a"}`},
		{"/v1/stacks/bee", `{"space":"team-b"}`},
		{"/v1/integrations/aws-b", `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/b"}}`},
		{"/v1/integrations/aws-l", `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/l"},"autoattach":[{"label":"web","read":true}]}`},
		{"/v1/stacks/lab", `{"space":"team-a","labels":["web"]}`},
		{"/v1/stacks/app2", `{"space":"team-a"}`},
		{"/v1/stacks/bee/attachments/aws-b", `{"write":true}`},
	} {
		if w := e.put("boss", step.path, step.body); w.Code != http.StatusCreated {
			t.Fatalf("setup PUT %s: %d %s", step.path, w.Code, w.Body)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/v1/api-keys", strings.NewReader(`{"id":"two","bindings":[{"role":"reader","space":"team-a"},{"role":"reader","space":"team-b"}]}`))
	if w := e.serve("boss", r); w.Code != http.StatusCreated {
		t.Fatalf("setup POST /v1/api-keys two: %d %s", w.Code, w.Body)
	}
	r = httptest.NewRequest(http.MethodPost, "/v1/api-keys", strings.NewReader(`{"id":"root-admin","bindings":[{"role":"admin","space":"root"}]}`))
	w := e.serve("boss", r)
	var created struct{ Secret string }
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &created) != nil || created.Secret == "" {
		t.Fatalf("setup POST /v1/api-keys: %d %s", w.Code, w.Body)
	}
	return e, created.Secret
}

// TestAdminRefusals pins who may change and see what through the administration API, and that each
// refusal is the error envelope with its own status (never a 500): ids in the path are checked
// before any right, references to missing objects are 404, file-managed objects 409, objects a key
// may not read are answered like missing ones, a key may neither bind nor grant what it lacks, a
// key is deleted only by one administering every space it is bound on, an attachment for write (or
// a read one reaching a cloud identity other stacks write with) takes the run rights, an
// integration still autoattached may not be deleted, and malformed preconditions are 400.
// Guards against: admin.go:pathIDs drops the path id check (403 instead of 400)
// Guards against: admin.go:fail maps catalog.ErrNotFound to invalid_request
// Guards against: admin.go:fail maps catalog.ErrManagedByConfig to invalid_request
// Guards against: admin.go:missingSpace refuses an empty space with 404
// Guards against: admin.go:adminSpace no longer defaults to root
// Guards against: admin_keys.go:administered shows every binding
// Guards against: admin_keys.go:authorizeBindings drops the role-actions check
// Guards against: admin_keys.go:authorizeBindings drops the missing-space 404
// Guards against: admin_keys.go:delete finds keys the caller administers no binding of
// Guards against: admin_kinds.go:decodeWithID accepts a body id differing from the path
// Guards against: admin_kinds.go:list drops the ?space= readability check
// Guards against: admin_kinds.go:readable no longer makes roles global
// Guards against: admin_kinds.go:get drops the readability check
// Guards against: admin_kinds.go:delete drops the readability check
// Guards against: admin_kinds.go:delete drops the inUse (autoattached) check
// Guards against: admin_kinds.go:autoattached flags direct attachments instead of automatic ones
// Guards against: admin_kinds.go:authorizeChange drops the grants check
// Guards against: admin_kinds.go:knownActions keeps unknown actions (403 instead of 400)
// Guards against: admin_attach.go:stackFor drops the readability check
// Guards against: admin_attach.go:apply drops the unreadable-integration 404, or its usable-space
// clause
// Guards against: admin_attach.go:apply drops the stack readability check (403 instead of 404)
// Guards against: admin_attach.go:apply asks no run rights for an attachment for write
// Guards against: admin_attach.go:apply drops AuthorizeResult (read attachment into a write
// identity)
// Guards against: admin_keys.go:delete authorize asks nothing of the key's other bound spaces
// Guards against: admin_preconditions.go:ifMatch accepts an empty If-Match, both headers, or
// If-None-Match other than *
func TestAdminRefusals(t *testing.T) {
	e, rootAdmin := refusalsEnv(t)
	cases := []adminCase{
		{name: "bad path id before rights", key: "b-admin", method: "PUT", path: "/v1/stacks/Bad_Id", body: `{"space":"team-a"}`, status: 400, code: "invalid_request"},
		{name: "missing integration", key: "boss", method: "PUT", path: "/v1/stacks/app/attachments/nope", body: `{"read":true}`, status: 404, code: "not_found"},
		{name: "file-managed space", key: "boss", method: "PUT", path: "/v1/spaces/prod", body: `{"parent":"root","inherit":true}`, status: 409, code: "conflict"},
		{name: "stack without space", key: "boss", method: "PUT", path: "/v1/stacks/nospace", body: `{"labels":["x"]}`, status: 400, code: "invalid_request"},
		{name: "bind a role not held", key: "a-admin", method: "POST", path: "/v1/api-keys", body: `{"id":"k2","bindings":[{"role":"all","space":"team-a"}]}`, status: 403, code: "forbidden"},
		{name: "bind on a missing space", key: "a-admin", method: "POST", path: "/v1/api-keys", body: `{"id":"k3","bindings":[{"role":"admin","space":"nowhere"}]}`, status: 404, code: "not_found"},
		{name: "delete a key bound elsewhere", key: "b-admin", method: "DELETE", path: "/v1/api-keys/a-admin", status: 404, code: "not_found"},
		{name: "key listing shows administered bindings only", key: "a-admin", method: "GET", path: "/v1/api-keys", status: 200, absent: "b-admin"},
		{name: "body id differs from path", key: "boss", method: "PUT", path: "/v1/stacks/app", body: `{"id":"other","space":"team-a"}`, status: 400, code: "invalid_request"},
		{name: "list a space not readable", key: "a-admin", method: "GET", path: "/v1/stacks?space=team-b", status: 404, code: "not_found"},
		{name: "roles are global", key: "a-admin", method: "GET", path: "/v1/roles/all", status: 200},
		{name: "get a stack not readable", key: "a-admin", method: "GET", path: "/v1/stacks/bee", status: 404, code: "not_found"},
		{name: "delete a stack not readable", key: "a-admin", method: "DELETE", path: "/v1/stacks/bee", status: 404, code: "not_found"},
		{name: "delete an autoattached integration", key: "boss", method: "DELETE", path: "/v1/integrations/aws-l", status: 409, code: "conflict"},
		{name: "grant an action not held", key: rootAdmin, method: "PUT", path: "/v1/roles/big", body: `{"actions":["run:create"]}`, status: 403, code: "forbidden"},
		{name: "unknown action is invalid", key: rootAdmin, method: "PUT", path: "/v1/roles/odd", body: `{"actions":["space:admin","run:fly"]}`, status: 400, code: "invalid_request"},
		{name: "attachments of a stack not readable", key: "a-admin", method: "GET", path: "/v1/stacks/bee/attachments", status: 404, code: "not_found"},
		{name: "attach an integration neither readable nor usable", key: "a-all", method: "PUT", path: "/v1/stacks/app/attachments/aws-b", body: `{"read":true}`, status: 404, code: "not_found"},
		{name: "attach an inherited integration not readable", key: "a-admin", method: "PUT", path: "/v1/stacks/app/attachments/aws-p", body: `{"read":true}`, status: 201},
		{name: "attach for write without the run rights", key: "a-admin", method: "PUT", path: "/v1/stacks/app/attachments/aws-p", body: `{"write":true}`, status: 403, code: "forbidden"},
		{name: "delete a key also bound elsewhere", key: "a-admin", method: "DELETE", path: "/v1/api-keys/two", status: 403, code: "forbidden"},
		{name: "integration sharing a write identity", key: "a-all", method: "PUT", path: "/v1/integrations/aws-dup", body: `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/b"}}`, status: 201},
		{name: "read attachment reaching a write identity elsewhere", key: "a-all", method: "PUT", path: "/v1/stacks/app2/attachments/aws-dup", body: `{"read":true}`, status: 403, code: "forbidden"},
		{name: "detach from a stack not readable", key: "a-admin", method: "DELETE", path: "/v1/stacks/bee/attachments/aws-b", status: 404, code: "not_found"},
		{name: "empty If-Match", key: "boss", method: "DELETE", path: "/v1/stacks/app", header: map[string][]string{"If-Match": {""}}, status: 400, code: "invalid_request"},
		{name: "If-Match and If-None-Match", key: "boss", method: "DELETE", path: "/v1/stacks/app", header: map[string][]string{"If-Match": {`"1"`}, "If-None-Match": {"*"}}, status: 400, code: "invalid_request"},
		{name: "If-None-Match not *", key: "boss", method: "PUT", path: "/v1/stacks/app", body: `{"space":"team-a"}`, header: map[string][]string{"If-None-Match": {`"1"`}}, status: 400, code: "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				r.Header[k] = v
			}
			w := e.serve(tc.key, r)
			tc.check(t, w)
		})
	}
}

// createKeyWith creates an API key with boss from body and returns its secret.
func createKeyWith(t *testing.T, e *adminEnv, body string) string {
	t.Helper()
	w := e.serve("boss", httptest.NewRequest(http.MethodPost, "/v1/api-keys", strings.NewReader(body)))
	var created struct{ Secret string }
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &created) != nil || created.Secret == "" {
		t.Fatalf("setup POST /v1/api-keys %s: %d %s", body, w.Code, w.Body)
	}
	return created.Secret
}

// TestAdminPutRights pins the rights a PUT takes beyond space:admin: replacing an object the key
// may not read is refused naming only that object; an integration with an autoattach rule for write
// takes the run rights; a stack move that would give keys bound where it goes actions the mover
// lacks where it is is refused; and a space's new template must fit its subtree's share (400 naming
// subjectTemplate).
// Guards against: admin_kinds.go:put leaves need.hidden unset for an object the key may not read
// Guards against: admin_kinds.go:authorizeChange does not replace a refusal by the hidden object's
// one
// Guards against: admin_kinds.go:put drops the spec's writes (write-token rights)
// Guards against: admin_kinds.go:put drops the spec's move check
// Guards against: admin_kinds.go:put skips the spec's check (template share)
func TestAdminPutRights(t *testing.T) {
	file := adminTestFile()
	share := config.SubtreeTemplateShare(2) // team-a is two below root
	for i := range share {
		file.Spaces = append(file.Spaces, config.Space{ID: fmt.Sprintf("a%d", i), Parent: "team-a", SubjectTemplate: ownTemplate(i)})
	}
	e := newAdminEnv(t, file, &keptEvents{})
	for _, step := range []struct{ path, body string }{
		{"/v1/stacks/bee", `{"space":"team-b"}`},
		{"/v1/stacks/mov", `{"space":"team-b"}`},
	} {
		if w := e.put("boss", step.path, step.body); w.Code != http.StatusCreated {
			t.Fatalf("setup PUT %s: %d %s", step.path, w.Code, w.Body)
		}
	}
	abAdmin := createKeyWith(t, e, `{"id":"ab-admin","bindings":[{"role":"admin","space":"team-a"},{"role":"admin","space":"team-b"}]}`)
	cases := []adminCase{
		{name: "replace a stack not readable", key: "a-admin", method: "PUT", path: "/v1/stacks/bee", body: `{"space":"team-a"}`, status: 403, code: "forbidden", absent: "team-b", holds: `may not change stack \"bee\"`},
		{name: "integration with a write rule without run rights", key: "a-admin", method: "PUT", path: "/v1/integrations/aws-wr", body: `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/wr"},"autoattach":[{"label":"wr","write":true}]}`, status: 403, code: "forbidden"},
		{name: "stack move giving run rights", key: abAdmin, method: "PUT", path: "/v1/stacks/mov", body: `{"space":"team-a"}`, status: 403, code: "forbidden"},
		{name: "template past the subtree's share", key: "a-all", method: "PUT", path: "/v1/spaces/extra", body: `{"parent":"team-a","subjectTemplate":"` + ownTemplate(900) + `"}`, status: 400, code: "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := e.serve(tc.key, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			tc.check(t, w)
		})
	}
}
