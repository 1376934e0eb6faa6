package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// Secrets of the administration tests' keys (adminConfig).
const (
	rootAdminSecret = "root-admin-secret" // admin on root
	noAdminSecret   = "no-admin-secret"   // orchestrator on team-a: a binding without space:admin
	hereSecret      = "here-secret"       // admin on team-a, the space of the objects under test
	parentSecret    = "parent-secret"     // admin on prod, team-a's parent
	siblingSecret   = "sibling-secret"    // admin on team-b, team-a's sibling
)

// adminConfig is testConfig plus a sibling space team-b, an all-actions role and keys holding
// it on root, team-a, prod and team-b, and one holding a role without space:admin on team-a.
var adminConfig = strings.NewReplacer(
	"spaces:\n", "spaces:\n  - {id: team-b, parent: prod, inherit: true}\n",
	"roles:\n", "roles:\n  - {id: admin, actions: [run:create, run:read, run:update, audit:read, space:admin]}\n",
	"api_keys:\n", "api_keys:\n"+
		"  - {id: root-admin, secret_sha256: "+sha256Hex(rootAdminSecret)+", bindings: [{role: admin, space: root}]}\n"+
		"  - {id: no-admin, secret_sha256: "+sha256Hex(noAdminSecret)+", bindings: [{role: orchestrator, space: team-a}]}\n"+
		"  - {id: here, secret_sha256: "+sha256Hex(hereSecret)+", bindings: [{role: admin, space: team-a}]}\n"+
		"  - {id: parent, secret_sha256: "+sha256Hex(parentSecret)+", bindings: [{role: admin, space: prod}]}\n"+
		"  - {id: sibling, secret_sha256: "+sha256Hex(siblingSecret)+", bindings: [{role: admin, space: team-b}]}\n",
).Replace(testConfig)

// The principals of the RBAC table, in the order of rbacCase.want: no binding covering team-a
// (orchestrator on dev only), a binding without space:admin, space:admin on team-a, on its
// parent prod, on its sibling team-b.
var rbacPrincipals = []struct{ name, secret string }{
	{"no binding", limitedSecret},
	{"binding without space:admin", noAdminSecret},
	{"space:admin on the space", hereSecret},
	{"space:admin on the parent", parentSecret},
	{"space:admin on a sibling", siblingSecret},
}

// rbacFixtures are the API objects under test, all in team-a (PUT by the root admin before
// each case): a space under team-a, a stack, an attached and an unattached integration, the
// attachment, a stack without attachments and a role.
var rbacFixtures = []struct{ path, body string }{
	{"/v1/spaces/rb-space", `{"parent":"team-a"}`},
	{"/v1/stacks/rb-stack", `{"space":"team-a","labels":["rb"]}`},
	{"/v1/stacks/rb-stack2", `{"space":"team-a"}`},
	{"/v1/integrations/rb-int", `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/rb"}}`},
	{"/v1/integrations/rb-int2", `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/rb2"}}`},
	{"/v1/stacks/rb-stack/attachments/rb-int", `{"read":true}`},
	{"/v1/roles/rb-role", `{"actions":["run:read"]}`},
}

// resetRBAC puts every fixture back as it was, with an API key rb-key bound on team-a, and
// removes the key rb-new and the space rb-space2 a case may have created.
func resetRBAC(t *testing.T, ts *testServer) {
	t.Helper()
	for _, f := range rbacFixtures {
		if code := ts.call(t, apiRequest{method: "PUT", path: f.path, bearer: rootAdminSecret, body: f.body}); code != 200 && code != 201 {
			t.Fatalf("reset PUT %s: %d", f.path, code)
		}
	}
	for _, path := range []string{"/v1/api-keys/rb-new", "/v1/spaces/rb-space2"} {
		if code := ts.call(t, apiRequest{method: "DELETE", path: path, bearer: rootAdminSecret}); code != 204 && code != 404 {
			t.Fatalf("reset DELETE %s: %d", path, code)
		}
	}
	var keys struct {
		APIKeys []struct{ ID string } `json:"apiKeys"`
	}
	ts.call(t, apiRequest{method: "GET", path: "/v1/api-keys", bearer: rootAdminSecret, out: &keys})
	for _, k := range keys.APIKeys {
		if k.ID == "rb-key" {
			return
		}
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret, body: `{"id":"rb-key","bindings":[{"role":"orchestrator","space":"team-a"}]}`}); code != 201 {
		t.Fatalf("reset POST rb-key: %d", code)
	}
}

// rbacCase is one endpoint: the status each principal of rbacPrincipals gets and, for a
// listing, which of them see the object (the answer holds item).
type rbacCase struct {
	name, method, path, body string
	want                     [5]int
	item                     string
	sees                     [5]bool
}

// rbacCases covers every administration endpoint. Reads of an object a key cannot see are
// 404, as for an object that does not exist; so is a change to such an object or to a stack's
// attachments; a change a key may see but not make is 403. Spaces are changed by space:admin
// on their parent, roles only by space:admin on root.
var rbacCases = []rbacCase{
	{name: "list spaces", method: "GET", path: "/v1/spaces", want: [5]int{200, 200, 200, 200, 200},
		item: `"id":"rb-space"`, sees: [5]bool{false, true, true, true, false}},
	{name: "get space", method: "GET", path: "/v1/spaces/rb-space", want: [5]int{404, 200, 200, 200, 404}},
	{name: "replace space", method: "PUT", path: "/v1/spaces/rb-space", body: `{"parent":"team-a"}`, want: [5]int{403, 403, 200, 200, 403}},
	{name: "create space", method: "PUT", path: "/v1/spaces/rb-space2", body: `{"parent":"team-a"}`, want: [5]int{403, 403, 201, 201, 403}},
	{name: "move space to team-b", method: "PUT", path: "/v1/spaces/rb-space", body: `{"parent":"team-b"}`, want: [5]int{403, 403, 403, 200, 403}},
	{name: "delete space", method: "DELETE", path: "/v1/spaces/rb-space", want: [5]int{404, 403, 204, 204, 404}},

	{name: "list stacks", method: "GET", path: "/v1/stacks", want: [5]int{200, 200, 200, 200, 200},
		item: `"id":"rb-stack"`, sees: [5]bool{false, true, true, true, false}},
	{name: "list stacks of team-a", method: "GET", path: "/v1/stacks?space=team-a&label=rb", want: [5]int{404, 200, 200, 200, 404},
		item: `"id":"rb-stack"`, sees: [5]bool{false, true, true, true, false}},
	{name: "get stack", method: "GET", path: "/v1/stacks/rb-stack", want: [5]int{404, 200, 200, 200, 404}},
	{name: "replace stack", method: "PUT", path: "/v1/stacks/rb-stack", body: `{"space":"team-a"}`, want: [5]int{403, 403, 200, 200, 403}},
	{name: "move stack to team-b", method: "PUT", path: "/v1/stacks/rb-stack2", body: `{"space":"team-b"}`, want: [5]int{403, 403, 403, 200, 403}},
	{name: "delete stack", method: "DELETE", path: "/v1/stacks/rb-stack", want: [5]int{404, 403, 204, 204, 404}},

	{name: "list integrations", method: "GET", path: "/v1/integrations", want: [5]int{200, 200, 200, 200, 200},
		item: `"id":"rb-int2"`, sees: [5]bool{false, true, true, true, false}},
	{name: "get integration", method: "GET", path: "/v1/integrations/rb-int2", want: [5]int{404, 200, 200, 200, 404}},
	{name: "replace integration", method: "PUT", path: "/v1/integrations/rb-int2",
		body: `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/other"}}`, want: [5]int{403, 403, 200, 200, 403}},
	{name: "delete integration", method: "DELETE", path: "/v1/integrations/rb-int2", want: [5]int{404, 403, 204, 204, 404}},

	{name: "list attachments", method: "GET", path: "/v1/stacks/rb-stack/attachments", want: [5]int{404, 200, 200, 200, 404},
		item: `"integration":"rb-int"`, sees: [5]bool{false, true, true, true, false}},
	{name: "put attachment", method: "PUT", path: "/v1/stacks/rb-stack/attachments/rb-int", body: `{"read":true,"write":true}`,
		want: [5]int{404, 403, 200, 200, 404}},
	{name: "delete attachment", method: "DELETE", path: "/v1/stacks/rb-stack/attachments/rb-int", want: [5]int{404, 403, 204, 204, 404}},

	{name: "list roles", method: "GET", path: "/v1/roles", want: [5]int{200, 200, 200, 200, 200},
		item: `"id":"rb-role"`, sees: [5]bool{true, true, true, true, true}},
	{name: "get role", method: "GET", path: "/v1/roles/rb-role", want: [5]int{200, 200, 200, 200, 200}},
	{name: "replace role", method: "PUT", path: "/v1/roles/rb-role", body: `{"actions":["run:read"]}`, want: [5]int{403, 403, 403, 403, 403}},
	{name: "delete role", method: "DELETE", path: "/v1/roles/rb-role", want: [5]int{403, 403, 403, 403, 403}},

	{name: "list api keys", method: "GET", path: "/v1/api-keys", want: [5]int{200, 200, 200, 200, 200},
		item: `"id":"rb-key"`, sees: [5]bool{false, false, true, true, false}},
	{name: "create api key", method: "POST", path: "/v1/api-keys", body: `{"id":"rb-new","bindings":[{"role":"orchestrator","space":"team-a"}]}`,
		want: [5]int{403, 403, 201, 201, 403}},
	{name: "delete api key", method: "DELETE", path: "/v1/api-keys/rb-key", want: [5]int{404, 404, 204, 204, 404}},
}

// TestAdminRBAC drives every administration endpoint with each principal and checks the
// status (and, for listings, what is shown).
func TestAdminRBAC(t *testing.T) {
	// Enough failed attempts for the 401 checks never to be rate limited.
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: "\nlimits: {auth_failures: 1000, window: 1m, cooloff: 1m}\n"})
	for _, tc := range rbacCases {
		t.Run(tc.name, func(t *testing.T) {
			for i, p := range rbacPrincipals {
				resetRBAC(t, ts)
				var raw json.RawMessage
				code := ts.call(t, apiRequest{method: tc.method, path: tc.path, bearer: p.secret, body: tc.body, out: &raw})
				if code != tc.want[i] {
					t.Errorf("%s: %s %s = %d, want %d (%s)", p.name, tc.method, tc.path, code, tc.want[i], raw)
					continue
				}
				if tc.item != "" && code == 200 {
					if got := strings.Contains(string(raw), tc.item); got != tc.sees[i] {
						t.Errorf("%s: %s %s shows %s: %v, want %v (%s)", p.name, tc.method, tc.path, tc.item, got, tc.sees[i], raw)
					}
				}
			}
			// Without a key, or with an unknown one, every endpoint is 401.
			for _, secret := range []string{"", "not-a-key"} {
				if code := ts.call(t, apiRequest{method: tc.method, path: tc.path, bearer: secret, body: tc.body}); code != 401 {
					t.Errorf("key %q: %s %s = %d, want 401", secret, tc.method, tc.path, code)
				}
			}
		})
	}
	// Roles are changed with space:admin on root only.
	resetRBAC(t, ts)
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/roles/rb-role", bearer: rootAdminSecret, body: `{"actions":["run:read","run:create"]}`}); code != 200 {
		t.Errorf("root admin replacing a role: %d", code)
	}
	if code := ts.call(t, apiRequest{method: "DELETE", path: "/v1/roles/rb-role", bearer: rootAdminSecret}); code != 204 {
		t.Errorf("root admin deleting a role: %d", code)
	}
}

// TestAdminNoEscalation: a key holding space:admin but not every other action cannot hand out
// what it lacks: not in a role, not in a new key's binding, not by rewriting a role bound to
// itself.
func TestAdminNoEscalation(t *testing.T) {
	const saSecret = "space-admin-only-secret"
	cfg := strings.NewReplacer(
		"roles:\n", "roles:\n  - {id: sa, actions: [space:admin, run:read]}\n",
		"api_keys:\n", "api_keys:\n  - {id: sa, secret_sha256: "+sha256Hex(saSecret)+", bindings: [{role: sa, space: root}]}\n",
	).Replace(adminConfig)
	ts := startServer(t, serverOptions{baseYAML: cfg})
	call := func(method, path, body string) int {
		t.Helper()
		return ts.call(t, apiRequest{method: method, path: path, bearer: saSecret, body: body})
	}
	if code := call("PUT", "/v1/roles/more", `{"actions":["run:create"]}`); code != 403 {
		t.Errorf("a role with an action the caller lacks: %d, want 403", code)
	}
	if code := call("PUT", "/v1/roles/same", `{"actions":["run:read"]}`); code != 201 {
		t.Errorf("a role with actions the caller holds: %d, want 201", code)
	}
	if code := call("POST", "/v1/api-keys", `{"id":"k1","bindings":[{"role":"orchestrator","space":"prod"}]}`); code != 403 {
		t.Errorf("a key bound to a role with actions the caller lacks: %d, want 403", code)
	}
	if code := call("POST", "/v1/api-keys", `{"id":"k2","bindings":[{"role":"same","space":"prod"}]}`); code != 201 {
		t.Errorf("a key bound to a role the caller holds: %d, want 201", code)
	}
	// The role is now bound to k2; widening it would widen k2.
	if code := call("PUT", "/v1/roles/same", `{"actions":["run:read","run:create"]}`); code != 403 {
		t.Errorf("widening a bound role past the caller's actions: %d, want 403", code)
	}
	var role struct {
		Role struct{ Actions []string } `json:"role"`
	}
	ts.call(t, apiRequest{method: "GET", path: "/v1/roles/same", bearer: saSecret, out: &role})
	if strings.Join(role.Role.Actions, ",") != "run:read" {
		t.Errorf("role same holds %v after the refusals", role.Role.Actions)
	}
}

// TestRefusalsDoNotLocateHiddenObjects: GET and DELETE answer an object the key may not read
// like one that does not exist. A PUT of such an object's id is refused (403, as the contract
// maps a missing action), but without naming the space it lives in, and so is a run of such a
// stack, and the deletion of an API key also bound where the key cannot see; an attachment to an
// integration the key may not read, and that the stack could not use, is answered as one to an
// integration that does not exist.
func TestRefusalsDoNotLocateHiddenObjects(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	answer := func(method, path, secret, body string) (int, string) {
		t.Helper()
		var out struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		code := ts.call(t, apiRequest{method: method, path: path, bearer: secret, body: body, out: &out})
		return code, out.Error.Message
	}
	// "here" administers team-a only: stack app-dev (in dev) and space team-b (under prod) are
	// out of its sight.
	for _, tc := range []struct{ path, body, hidden string }{
		{"/v1/stacks/app-dev", `{"space":"team-a"}`, `"dev"`},
		{"/v1/spaces/team-b", `{"parent":"team-a"}`, `"prod"`},
	} {
		if code, _ := answer("GET", tc.path, hereSecret, ""); code != 404 {
			t.Fatalf("GET %s: %d, want 404", tc.path, code)
		}
		code, msg := answer("PUT", tc.path, hereSecret, tc.body)
		if code != 403 || strings.Contains(msg, tc.hidden) {
			t.Errorf("PUT %s: %d %q; want 403 without naming %s", tc.path, code, msg, tc.hidden)
		}
		// The refusal is filed under team-a, whose trail the key reads: it does not name it either.
		for _, e := range auditEvents(t, ts, "team-a", 100) {
			if e.Outcome == "denied" && strings.Contains(e.Detail, tc.hidden) {
				t.Errorf("team-a's trail locates %s: %+v", tc.path, e)
			}
		}
	}
	// A key bound on team-a and on dev: "here" sees it by its team-a binding, and may not
	// delete it, without learning where else it is bound.
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret,
		body: `{"id":"two-homes","bindings":[{"role":"orchestrator","space":"team-a"},{"role":"orchestrator","space":"dev"}]}`}); code != 201 {
		t.Fatalf("POST /v1/api-keys two-homes: %d", code)
	}
	if code, msg := answer("DELETE", "/v1/api-keys/two-homes", hereSecret, ""); code != 403 || strings.Contains(msg, `"dev"`) {
		t.Errorf("DELETE /v1/api-keys/two-homes: %d %q; want 403 without naming \"dev\"", code, msg)
	}
	for _, e := range auditEvents(t, ts, "team-a", 100) {
		if e.Outcome == "denied" && strings.Contains(e.Detail, `"dev"`) {
			t.Errorf("team-a's trail names the key's hidden binding space: %+v", e)
		}
	}
	// Nor can it tell that the stack exists: the answer is a missing stack's.
	code, msg := answer("POST", "/v1/runs", hereSecret, `{"stack":"app-dev","runType":"TRACKED"}`)
	missingCode, missingMsg := answer("POST", "/v1/runs", hereSecret, `{"stack":"no-such-stack","runType":"TRACKED"}`)
	if code != 404 || code != missingCode || msg != strings.ReplaceAll(missingMsg, "no-such-stack", "app-dev") {
		t.Errorf("POST /v1/runs for app-dev: %d %q; for a stack that does not exist: %d %q; want the same 404", code, msg, missingCode, missingMsg)
	}
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/integrations/ib", bearer: rootAdminSecret,
		body: `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/ib"}}`}); code != 201 {
		t.Fatalf("PUT /v1/integrations/ib: %d", code)
	}
	hiddenCode, hiddenMsg := answer("PUT", "/v1/stacks/app-a/attachments/ib", hereSecret, `{"read":true}`)
	noneCode, noneMsg := answer("PUT", "/v1/stacks/app-a/attachments/ib-none", hereSecret, `{"read":true}`)
	if hiddenCode != noneCode || strings.ReplaceAll(hiddenMsg, "ib", "X") != strings.ReplaceAll(noneMsg, "ib-none", "X") {
		t.Errorf("an integration the key may not read: %d %q; one that does not exist: %d %q", hiddenCode, hiddenMsg, noneCode, noneMsg)
	}
	// An integration of an ancestor space, which the stack may use, stays attachable by the
	// space's admin although it cannot read it.
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/integrations/ip", bearer: rootAdminSecret,
		body: `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/ip"}}`}); code != 201 {
		t.Fatalf("PUT /v1/integrations/ip: %d", code)
	}
	if code, msg := answer("PUT", "/v1/stacks/app-a/attachments/ip", hereSecret, `{"read":true}`); code != 201 {
		t.Errorf("attaching prod's integration to app-a by team-a's admin: %d %q, want 201", code, msg)
	}
}
