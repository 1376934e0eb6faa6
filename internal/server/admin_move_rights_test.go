package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// moveFixtures are the objects the root admin puts before the move tests, all under team-a:
// a child space mv-sub, a space mv-victim with a stack, a plain stack in team-a, and the
// roles mv-adm (space:admin) and mv-run (run:create and run:update).
var moveFixtures = []struct{ path, body string }{
	{"/v1/spaces/mv-sub", `{"parent":"team-a","inherit":true}`},
	{"/v1/spaces/mv-victim", `{"parent":"team-a","inherit":true}`},
	{"/v1/stacks/mv-victim-stack", `{"space":"mv-victim"}`},
	{"/v1/stacks/mv-stack", `{"space":"team-a"}`},
	{"/v1/roles/mv-adm", `{"actions":["space:admin"]}`},
	{"/v1/roles/mv-run", `{"actions":["run:create","run:update"]}`},
}

// startMoveServer starts a server holding moveFixtures (then extra, in order), as the root
// admin.
func startMoveServer(t *testing.T, extra ...struct{ path, body string }) *testServer {
	t.Helper()
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	for _, f := range append(append([]struct{ path, body string }{}, moveFixtures...), extra...) {
		if a := ts.admin(t, "PUT", f.path, f.body); a.code != 200 && a.code != 201 {
			t.Fatalf("fixture PUT %s: %d %s", f.path, a.code, a.body)
		}
	}
	return ts
}

// keyBound creates, as the root admin, API key id with bindings (a JSON array) and returns its
// secret.
func keyBound(t *testing.T, ts *testServer, id, bindings string) string {
	t.Helper()
	var created struct {
		Secret string `json:"secret"`
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret,
		body: `{"id":"` + id + `","bindings":` + bindings + `}`, out: &created}); code != 201 {
		t.Fatalf("create key %s: %d", id, code)
	}
	return created.Secret
}

// putAs sends PUT path with body as secret and returns the status and the error's code and
// message (empty on success).
func putAs(t *testing.T, ts *testServer, secret, path, body string) (int, string, string) {
	t.Helper()
	var out struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	code := ts.call(t, apiRequest{method: "PUT", path: path, bearer: secret, body: body, out: &out})
	return code, out.Error.Code, out.Error.Message
}

// fieldOf returns field of the object GET path answers to the root admin (as its JSON text).
func fieldOf(t *testing.T, ts *testServer, path, name, field string) string {
	t.Helper()
	a := ts.admin(t, "GET", path, "")
	var ans map[string]map[string]json.RawMessage
	if a.code != 200 || json.Unmarshal([]byte(a.body), &ans) != nil {
		t.Fatalf("GET %s: %d %s", path, a.code, a.body)
	}
	return string(ans[name][field])
}

// TestMoveNeverWidensTheMoversReach: a move never widens the reach of the key making it. A key
// holding space:admin on team-a and run:create+run:update only on its child mv-sub may not move
// space mv-victim under mv-sub, nor stack mv-stack into mv-sub: its binding on mv-sub would
// then cover them, and it could start and apply their runs (write-scope tokens with their
// subject) or bind another key with the run rights on mv-victim that keeps them once the space
// is moved back. Each move is refused with 403 naming the actions the key lacks and the space
// where it lacks them, nothing changes, the refusal is audited, and the other key stays out of
// reach.
func TestMoveNeverWidensTheMoversReach(t *testing.T) {
	ts := startMoveServer(t)
	k := keyBound(t, ts, "mv-key", `[{"role":"mv-adm","space":"team-a"},{"role":"mv-run","space":"mv-sub"}]`)
	backdoor := `{"id":"mv-backdoor","bindings":[{"role":"mv-run","space":"mv-victim"}]}`
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: k, body: backdoor}); code != 403 {
		t.Fatalf("sanity: a key with the run rights on mv-victim, made by mv-key: %d, want 403", code)
	}

	for _, tc := range []struct {
		what, path, body string
		names            []string
		// get, name, field, was: where the object's place is read, and what it must stay.
		get, name, field, was string
	}{
		{"space mv-victim under mv-sub", "/v1/spaces/mv-victim", `{"parent":"mv-sub","inherit":true}`,
			[]string{"run:create", "run:update", `"mv-victim"`}, "/v1/spaces/mv-victim", "space", "parent", `"team-a"`},
		{"stack mv-stack into mv-sub", "/v1/stacks/mv-stack", `{"space":"mv-sub"}`,
			[]string{"run:create", "run:update", `"team-a"`}, "/v1/stacks/mv-stack", "stack", "space", `"team-a"`},
	} {
		code, errCode, msg := putAs(t, ts, k, tc.path, tc.body)
		if code != 403 || errCode != "forbidden" {
			t.Errorf("move of %s by a key holding more on the destination: %d %q %q, want 403 forbidden", tc.what, code, errCode, msg)
		}
		for _, n := range tc.names {
			if code == 403 && !strings.Contains(msg, n) {
				t.Errorf("move of %s: refusal %q does not name %s", tc.what, msg, n)
			}
		}
		if code == 403 && strings.Contains(msg, "space:admin") {
			t.Errorf("move of %s: refusal %q names space:admin, which the key holds on both", tc.what, msg)
		}
		if got := fieldOf(t, ts, tc.get, tc.name, tc.field); got != tc.was {
			t.Errorf("after the move of %s: %s is %s, want %s", tc.what, tc.field, got, tc.was)
		}
	}

	// Nothing widened: the key still may not bind another key with the run rights on
	// mv-victim, nor start a run of its stack.
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: k, body: backdoor}); code != 403 {
		t.Errorf("a key with the run rights on mv-victim, made by mv-key after the move: %d, want 403", code)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: k,
		body: map[string]string{"stack": "mv-victim-stack", "runType": "TRACKED", "phase": "APPLYING"}}); code != 403 {
		t.Errorf("an APPLYING run of mv-victim-stack by mv-key after the move: %d, want 403", code)
	}

	denied := 0
	for _, e := range auditEvents(t, ts, "mv-sub", 100) {
		if e.Outcome == "denied" && e.Actor == "api_key:mv-key" && strings.Contains(e.Detail, "widens its own reach") {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("mv-sub's trail holds %d denied moves by mv-key, want 2", denied)
	}
}

// TestMoveCarriesNoAutoattachForWrite: a move that carries a write attachment made by an
// autoattach rule, or brings a stack under such a rule, needs run:create and run:update where
// it goes, as a direct write attachment does. The root admin moves mv-victim under mv-sub,
// where mv-key (space:admin on team-a and team-b, run rights only on mv-sub) puts an
// integration of its own with an autoattach rule for write and labels the victim stack; moving
// mv-victim back under team-a, where the key lacks the run rights, would carry the rule along
// and is refused. So is moving a stack from team-a into team-b, where an integration's rule
// would attach it for write. Nothing changes.
func TestMoveCarriesNoAutoattachForWrite(t *testing.T) {
	ts := startMoveServer(t,
		struct{ path, body string }{"/v1/stacks/mv-labelled", `{"space":"team-a","labels":["mv-b-rule"]}`},
		struct{ path, body string }{"/v1/integrations/mv-b-auto",
			`{"space":"team-b","vault":{"address":"https://vault.example.com","role":"deploy"},"autoattach":[{"label":"mv-b-rule","write":true}]}`},
		struct{ path, body string }{"/v1/spaces/mv-victim", `{"parent":"mv-sub","inherit":true}`},
	)
	k := keyBound(t, ts, "mv-key", `[{"role":"mv-adm","space":"team-a"},{"role":"mv-adm","space":"team-b"},{"role":"mv-run","space":"mv-sub"}]`)
	evilInt := `{"space":"mv-victim","vault":{"address":"https://evil.example.com","role":"deploy"},"autoattach":[{"label":"mv-grab","write":true}]}`
	if code, _, msg := putAs(t, ts, k, "/v1/integrations/mv-evil", evilInt); code != 201 {
		t.Fatalf("autoattach-for-write integration in mv-victim under mv-sub: %d %q", code, msg)
	}
	if code, _, msg := putAs(t, ts, k, "/v1/stacks/mv-victim-stack", `{"space":"mv-victim","labels":["mv-grab"]}`); code != 200 {
		t.Fatalf("label the victim stack: %d %q", code, msg)
	}

	for _, tc := range []struct {
		what, path, body      string
		get, name, field, was string
	}{
		{"space mv-victim, autoattached for write, back under team-a", "/v1/spaces/mv-victim", `{"parent":"team-a","inherit":true}`,
			"/v1/spaces/mv-victim", "space", "parent", `"mv-sub"`},
		{"stack mv-labelled into team-b, under an autoattach rule for write", "/v1/stacks/mv-labelled", `{"space":"team-b","labels":["mv-b-rule"]}`,
			"/v1/stacks/mv-labelled", "stack", "space", `"team-a"`},
	} {
		code, errCode, msg := putAs(t, ts, k, tc.path, tc.body)
		if code != 403 || errCode != "forbidden" {
			t.Errorf("move of %s by a key without the run rights there: %d %q %q, want 403 forbidden", tc.what, code, errCode, msg)
		}
		for _, n := range []string{"run:create", "run:update"} {
			if code == 403 && !strings.Contains(msg, n) {
				t.Errorf("move of %s: refusal %q does not name %s", tc.what, msg, n)
			}
		}
		if got := fieldOf(t, ts, tc.get, tc.name, tc.field); got != tc.was {
			t.Errorf("after the move of %s: %s is %s, want %s", tc.what, tc.field, got, tc.was)
		}
	}
}

// TestLegitimateMovesStillWork: moves that widen nobody's reach, or carry write attachments to
// where the key holds the run rights, go through: the root admin's, those of a key holding the
// same rights over the old and the new place, and those of a key holding only space:admin on
// both (one binding or two) of a space and a stack without write attachments. Each moves its object there and back.
func TestLegitimateMovesStillWork(t *testing.T) {
	ts := startMoveServer(t,
		struct{ path, body string }{"/v1/spaces/mv-quiet", `{"parent":"team-a","inherit":true}`},
		struct{ path, body string }{"/v1/stacks/mv-quiet-stack", `{"space":"mv-quiet"}`},
		struct{ path, body string }{"/v1/integrations/mv-int", `{"space":"team-a","vault":{"address":"https://vault.example.com","role":"deploy"}}`},
		struct{ path, body string }{"/v1/stacks/mv-victim-stack/attachments/mv-int", `{"write":true}`},
		struct{ path, body string }{"/v1/stacks/mv-stack/attachments/mv-int", `{"write":true}`},
		struct{ path, body string }{"/v1/integrations/mv-auto",
			`{"space":"mv-victim","aws":{"roleArn":"arn:aws:iam::123456789012:role/mv"},"autoattach":[{"label":"mv-rule","write":true}]}`},
		struct{ path, body string }{"/v1/stacks/mv-victim-stack", `{"space":"mv-victim","labels":["mv-rule"]}`},
	)
	adminOnly := keyBound(t, ts, "mv-admin-only", `[{"role":"mv-adm","space":"team-a"}]`)
	bothTeams := keyBound(t, ts, "mv-both-teams", `[{"role":"mv-adm","space":"team-a"},{"role":"mv-adm","space":"team-b"}]`)
	for _, tc := range []struct {
		who, secret, what, path, there, back string
	}{
		{"the root admin", rootAdminSecret, "space with write attachments", "/v1/spaces/mv-victim",
			`{"parent":"mv-sub","inherit":true}`, `{"parent":"team-a","inherit":true}`},
		{"the root admin", rootAdminSecret, "stack attached for write", "/v1/stacks/mv-stack",
			`{"space":"mv-sub"}`, `{"space":"team-a"}`},
		{"the root admin", rootAdminSecret, "space under another team", "/v1/spaces/mv-quiet",
			`{"parent":"team-b","inherit":true}`, `{"parent":"team-a","inherit":true}`},
		{"a key holding every action on team-a", hereSecret, "space with write attachments", "/v1/spaces/mv-victim",
			`{"parent":"mv-sub","inherit":true}`, `{"parent":"team-a","inherit":true}`},
		{"a key holding every action on team-a", hereSecret, "stack attached for write", "/v1/stacks/mv-stack",
			`{"space":"mv-sub"}`, `{"space":"team-a"}`},
		{"a key holding only space:admin on team-a", adminOnly, "space without write attachments", "/v1/spaces/mv-quiet",
			`{"parent":"mv-sub","inherit":true}`, `{"parent":"team-a","inherit":true}`},
		{"a key holding only space:admin on team-a", adminOnly, "stack without write attachments", "/v1/stacks/mv-quiet-stack",
			`{"space":"mv-sub"}`, `{"space":"mv-quiet"}`},
		{"a key holding only space:admin on team-a and team-b", bothTeams, "space without write attachments", "/v1/spaces/mv-quiet",
			`{"parent":"team-b","inherit":true}`, `{"parent":"team-a","inherit":true}`},
		{"a key holding only space:admin on team-a and team-b", bothTeams, "stack without write attachments", "/v1/stacks/mv-quiet-stack",
			`{"space":"team-b"}`, `{"space":"mv-quiet"}`},
	} {
		for _, step := range []struct{ dir, body string }{{"there", tc.there}, {"back", tc.back}} {
			if code, _, msg := putAs(t, ts, tc.secret, tc.path, step.body); code != 200 {
				t.Errorf("%s moving a %s %s: %d %q, want 200", tc.who, tc.what, step.dir, code, msg)
			}
		}
	}
}
