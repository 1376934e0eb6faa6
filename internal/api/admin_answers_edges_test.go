package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAdminAnswers pins the status, envelope code and body of administration answers at
// their edges: a bad path id (the stack's or the integration's) is 400 naming the id cut at 64
// bytes; a listing's unknown parameter is 400 and its unknown ?space= 404, even to a root key; a
// body naming a missing space is 404; a key needs bindings and a fresh id; deleting a role takes
// space:admin on root; deleting a space with its own template takes the run rights there;
// deletions answer 204; a stale If-Match on a deletion is 412.
// Guards against: admin.go:pathIDs cuts a bad id later than 64 bytes
// Guards against: admin.go:pathIDs no longer checks the {integration} id
// Guards against: admin_kinds.go:list answers an unknown ?space= to a key covering it with
// everything
// Guards against: admin_kinds.go:put drops the missing-space 404
// Guards against: admin_kinds.go:list drops the query-parameter check
// Guards against: admin_kinds.go:inSubtree ignores ?space=
// Guards against: admin_kinds.go:stacks listing no longer takes ?label=
// Guards against: admin_kinds.go:stacks listing ignores ?label=
// Guards against: admin_attach.go:list drops the query-parameter check
// Guards against: admin_keys.go:list drops the query-parameter check
// Guards against: admin_keys.go:authorizeBindings checks the role's actions at root, not the bound
// space
// Guards against: admin.go:decodeObject says "and 1 more" only past one more
// Guards against: admin_attach.go:apply hides an integration the key may read
// Guards against: admin_keys.go:create drops the at-least-one-binding check
// Guards against: admin_keys.go:create drops the early already-exists 409
// Guards against: admin_kinds.go:roles need space:admin nowhere
// Guards against: admin_kinds.go:delete drops the spec's deleteWrites
// Guards against: admin_write.go:spaceDeleteWriteSpaces lists nothing
// Guards against: admin_kinds.go:delete answers 200
// Guards against: admin_attach.go:delete answers 200
// Guards against: admin_kinds.go:delete ignores If-Match
// Guards against: admin_keys.go:delete ignores If-Match
func TestAdminAnswers(t *testing.T) {
	e, _ := refusalsEnv(t)
	long := "Bad" + strings.Repeat("x", 70)
	for _, step := range []struct{ path, body string }{
		{"/v1/roles/spare", `{"actions":["run:read"]}`},
		{"/v1/spaces/tpl", `{"parent":"team-a","subjectTemplate":"` + ownTemplate(1) + `"}`},
		{"/v1/stacks/gone", `{"space":"team-a"}`},
	} {
		if w := e.put("boss", step.path, step.body); w.Code != http.StatusCreated {
			t.Fatalf("setup PUT %s: %d %s", step.path, w.Code, w.Body)
		}
	}
	eleven := `{"space":"team-a"`
	for i := range 11 {
		eleven += fmt.Sprintf(`,"bogus%02d":1`, i)
	}
	eleven += "}"
	stale := map[string][]string{"If-Match": {`"99"`}}
	cases := []adminCase{
		{name: "long bad id cut", key: "boss", method: "PUT", path: "/v1/stacks/" + long, body: `{"space":"team-a"}`, status: 400, code: "invalid_request", absent: long, holds: long[:64] + "…"},
		{name: "bad integration id", key: "boss", method: "PUT", path: "/v1/stacks/app/attachments/Bad_Id", body: `{"read":true}`, status: 400, code: "invalid_request", holds: "must match"},
		{name: "unknown space listed by root", key: "boss", method: "GET", path: "/v1/stacks?space=nowhere", status: 404, code: "not_found"},
		{name: "stack in a missing space", key: "boss", method: "PUT", path: "/v1/stacks/x", body: `{"space":"nowhere"}`, status: 404, code: "not_found", holds: "does not exist"},
		{name: "unknown stack listing parameter", key: "boss", method: "GET", path: "/v1/stacks?bogus=1", status: 400, code: "invalid_request"},
		{name: "stacks by space", key: "boss", method: "GET", path: "/v1/stacks?space=team-b", status: 200, holds: `"id":"bee"`, absent: `"id":"app"`},
		{name: "stacks by label", key: "boss", method: "GET", path: "/v1/stacks?label=web", status: 200, holds: `"id":"lab"`, absent: `"id":"app2"`},
		{name: "unknown attachment listing parameter", key: "boss", method: "GET", path: "/v1/stacks/app/attachments?x=1", status: 400, code: "invalid_request"},
		{name: "unknown key listing parameter", key: "boss", method: "GET", path: "/v1/api-keys?x=1", status: 400, code: "invalid_request"},
		{name: "key without bindings", key: "boss", method: "POST", path: "/v1/api-keys", body: `{"id":"k9","bindings":[]}`, status: 400, code: "invalid_request", holds: "at least one binding"},
		{name: "bind a role held on its space only", key: "a-all", method: "POST", path: "/v1/api-keys", body: `{"id":"k8","bindings":[{"role":"all","space":"team-a"}]}`, status: 201},
		{name: "eleven problems", key: "boss", method: "PUT", path: "/v1/stacks/app", body: eleven, status: 400, code: "invalid_request", holds: "and 1 more"},
		{name: "readable integration the stack may not use", key: "boss", method: "PUT", path: "/v1/stacks/app/attachments/aws-b", body: `{"read":true}`, status: 400, code: "invalid_request", absent: "does not exist"},
		{name: "key id taken", key: "boss", method: "POST", path: "/v1/api-keys", body: `{"id":"two","bindings":[{"role":"reader","space":"team-a"}]}`, status: 409, code: "conflict", holds: "delete it first"},
		{name: "delete a role without root admin", key: "a-all", method: "DELETE", path: "/v1/roles/spare", status: 403, code: "forbidden"},
		{name: "delete a templated space without run rights", key: "a-admin", method: "DELETE", path: "/v1/spaces/tpl", status: 403, code: "forbidden"},
		{name: "stale If-Match on a stack", key: "boss", method: "DELETE", path: "/v1/stacks/gone", header: stale, status: 412, code: "precondition_failed"},
		{name: "stale If-Match on a key", key: "boss", method: "DELETE", path: "/v1/api-keys/two", header: stale, status: 412, code: "precondition_failed"},
		{name: "stack deleted", key: "boss", method: "DELETE", path: "/v1/stacks/gone", status: 204},
		{name: "attachment deleted", key: "boss", method: "DELETE", path: "/v1/stacks/bee/attachments/aws-b", status: 204},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				r.Header[k] = v
			}
			tc.check(t, e.serve(tc.key, r))
		})
	}
}

// TestAdminObjectAnswers pins what a successful answer carries: a quoted ETag and
// Cache-Control: no-store on an object, a quoted ETag on a new key, an attachment's answer whose
// version is its ETag and whose read flag is the body's, and a listing of attachments showing
// each one's read and write flags, with managedBy and version for a direct one only.
// Guards against: admin.go:writeObject sends an unquoted ETag
// Guards against: admin.go:writeRaw drops Cache-Control
// Guards against: admin_keys.go:create sends no ETag
// Guards against: admin_attach.go:put answers another version than the ETag
// Guards against: admin_attach.go:put reads write as read too
// Guards against: admin_attach.go:list drops managedBy and version of a direct attachment
// Guards against: admin_attach.go:list gives managedBy and version to an automatic attachment
// Guards against: admin_attach.go:list swaps read and write
func TestAdminObjectAnswers(t *testing.T) {
	e, _ := refusalsEnv(t)
	w := e.serve("boss", httptest.NewRequest(http.MethodGet, "/v1/stacks/app", nil))
	if etag := w.Header().Get("ETag"); w.Code != 200 || etag != `"1"` || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("GET stack: %d ETag %q Cache-Control %q, want 200 \"1\" no-store", w.Code, etag, w.Header().Get("Cache-Control"))
	}
	w = e.serve("boss", httptest.NewRequest(http.MethodPost, "/v1/api-keys", strings.NewReader(`{"id":"k5","bindings":[{"role":"reader","space":"team-a"}]}`)))
	if etag := w.Header().Get("ETag"); w.Code != 201 || etag != `"1"` {
		t.Errorf("POST key: %d ETag %q, want 201 \"1\"", w.Code, etag)
	}
	w = e.put("boss", "/v1/stacks/app/attachments/aws-p", `{"write":true}`)
	want := fmt.Sprintf(`"read":false,"write":true,"source":"direct","managedBy":"api","version":%s}`, strings.Trim(w.Header().Get("ETag"), `"`))
	if w.Code != 201 || w.Header().Get("ETag") == "" || !strings.Contains(w.Body.String(), want) {
		t.Errorf("PUT attachment: %d ETag %q %s, want 201 holding %s", w.Code, w.Header().Get("ETag"), w.Body, want)
	}
	w = e.serve("boss", httptest.NewRequest(http.MethodGet, "/v1/stacks/bee/attachments", nil))
	if want := `"read":false,"write":true,"source":"direct","managedBy":"api","version":1}`; !strings.Contains(w.Body.String(), want) {
		t.Errorf("GET bee's attachments: %s, want it to hold %s", w.Body, want)
	}
	w = e.serve("boss", httptest.NewRequest(http.MethodGet, "/v1/stacks/lab/attachments", nil))
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, `"integration":"aws-l"`) || strings.Contains(body, "managedBy") {
		t.Errorf("GET lab's attachments: %d %s, want aws-l without managedBy", w.Code, body)
	}
}

// TestClipPath pins that a recorded path is kept whole up to 128 bytes and cut past them,
// saying so.
// Guards against: admin.go:clipPath cuts a path of exactly 128 bytes
// Guards against: admin.go:maxRecordedPath raised
func TestClipPath(t *testing.T) {
	at := strings.Repeat("p", 128)
	if got := clipPath(at); got != at {
		t.Errorf("clipPath of 128 bytes = %q, want it whole", got)
	}
	if got := clipPath(at + "qq"); got != at+"..." {
		t.Errorf("clipPath of 130 bytes = %q, want its first 128 and ...", got)
	}
}
