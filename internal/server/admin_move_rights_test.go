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

// quietTeamsConfig is testConfig plus a sibling space team-b, an all-actions role and the root
// admin key: no key is bound on team-a, team-b or below them (testConfig's keys are bound on
// prod, dev and root), so a move between the two teams gives no key anything unless a test
// binds one.
var quietTeamsConfig = strings.NewReplacer(
	"spaces:\n", "spaces:\n  - {id: team-b, parent: prod, inherit: true}\n",
	"roles:\n", "roles:\n  - {id: admin, actions: [run:create, run:read, run:update, audit:read, space:admin]}\n",
	"api_keys:\n", "api_keys:\n"+
		"  - {id: root-admin, secret_sha256: "+sha256Hex(rootAdminSecret)+", bindings: [{role: admin, space: root}]}\n",
).Replace(testConfig)

// startMoveServer starts a server on adminConfig holding moveFixtures (then extra, in order),
// as the root admin.
func startMoveServer(t *testing.T, extra ...struct{ path, body string }) *testServer {
	t.Helper()
	return startMoveServerOn(t, adminConfig, extra...)
}

// startMoveServerOn starts a server on the configuration base holding moveFixtures (then
// extra, in order), as the root admin.
func startMoveServerOn(t *testing.T, base string, extra ...struct{ path, body string }) *testServer {
	t.Helper()
	ts := startServer(t, serverOptions{baseYAML: base, extraYAML: manyFailures})
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
		if e.Outcome == "denied" && e.Actor == "api_key:mv-key" && strings.Contains(e.Detail, "touches several spaces") {
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
// would attach it for write. Nothing changes. No other key is bound on the teams
// (quietTeamsConfig), so neither move gives another key anything: the refusals are the write
// rule's.
func TestMoveCarriesNoAutoattachForWrite(t *testing.T) {
	ts := startMoveServerOn(t, quietTeamsConfig,
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
		for _, n := range []string{"run:create", "run:update", "write-scope tokens"} {
			if code == 403 && !strings.Contains(msg, n) {
				t.Errorf("move of %s: refusal %q does not name %s", tc.what, msg, n)
			}
		}
		if got := fieldOf(t, ts, tc.get, tc.name, tc.field); got != tc.was {
			t.Errorf("after the move of %s: %s is %s, want %s", tc.what, tc.field, got, tc.was)
		}
	}
}

// TestMoveByAHelperKeyGivesNothing: a move gives no key an action on the moved object that the
// key making it lacks where the object is now. mv-key (space:admin on team-a, run rights only
// on mv-sub) may not move mv-victim under mv-sub itself, so it mints mv-helper with only
// space:admin on team-a, whose own reach the move would not widen. The helper's move would give
// mv-key the run rights on mv-victim (then mv-key could bind a backdoor key with them there,
// which keeps them once the helper moves the space back): it is refused with 403 naming the
// actions and not the key they would go to, and so is the same move of stack mv-stack; nothing
// changes, both refusals are audited, and mv-key still may not bind the backdoor nor run
// mv-victim-stack.
func TestMoveByAHelperKeyGivesNothing(t *testing.T) {
	ts := startMoveServer(t)
	k := keyBound(t, ts, "mv-key", `[{"role":"mv-adm","space":"team-a"},{"role":"mv-run","space":"mv-sub"}]`)
	if code, _, msg := putAs(t, ts, k, "/v1/spaces/mv-victim", `{"parent":"mv-sub","inherit":true}`); code != 403 {
		t.Fatalf("sanity: direct move by mv-key: %d %q, want 403", code, msg)
	}
	var helper struct {
		Secret string `json:"secret"`
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: k,
		body: `{"id":"mv-helper","bindings":[{"role":"mv-adm","space":"team-a"}]}`, out: &helper}); code != 201 {
		t.Fatalf("mv-key mints an admin-only helper: %d", code)
	}

	for _, tc := range []struct {
		what, path, body      string
		get, name, field, was string
	}{
		{"space mv-victim under mv-sub", "/v1/spaces/mv-victim", `{"parent":"mv-sub","inherit":true}`,
			"/v1/spaces/mv-victim", "space", "parent", `"team-a"`},
		{"stack mv-stack into mv-sub", "/v1/stacks/mv-stack", `{"space":"mv-sub"}`,
			"/v1/stacks/mv-stack", "stack", "space", `"team-a"`},
	} {
		code, errCode, msg := putAs(t, ts, helper.Secret, tc.path, tc.body)
		if code != 403 || errCode != "forbidden" {
			t.Errorf("helper's move of %s, giving mv-key the run rights on it: %d %q %q, want 403 forbidden", tc.what, code, errCode, msg)
		}
		for _, n := range []string{"run:create", "run:update", `"mv-helper"`} {
			if code == 403 && !strings.Contains(msg, n) {
				t.Errorf("helper's move of %s: refusal %q does not name %s", tc.what, msg, n)
			}
		}
		if code == 403 && (strings.Contains(msg, "mv-key") || strings.Contains(msg, "space:admin")) {
			t.Errorf("helper's move of %s: refusal %q names another key or space:admin, which the helper holds", tc.what, msg)
		}
		if got := fieldOf(t, ts, tc.get, tc.name, tc.field); got != tc.was {
			t.Errorf("after the helper's move of %s: %s is %s, want %s", tc.what, tc.field, got, tc.was)
		}
	}

	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: k,
		body: `{"id":"mv-backdoor","bindings":[{"role":"mv-run","space":"mv-victim"}]}`}); code != 403 {
		t.Errorf("a key with the run rights on mv-victim, made by mv-key after the helper's moves: %d, want 403", code)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: k,
		body: map[string]string{"stack": "mv-victim-stack", "runType": "TRACKED", "phase": "APPLYING"}}); code != 403 {
		t.Errorf("an APPLYING run of mv-victim-stack by mv-key after the helper's moves: %d, want 403", code)
	}
	denied := 0
	for _, e := range auditEvents(t, ts, "mv-sub", 100) {
		if e.Outcome == "denied" && e.Actor == "api_key:mv-helper" && strings.Contains(e.Detail, "touches several spaces") {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("mv-sub's trail holds %d denied moves by mv-helper, want 2", denied)
	}
}

// writeAttached reports whether the root admin sees stack attached to integration for write.
func writeAttached(t *testing.T, ts *testServer, stack, integration string) bool {
	t.Helper()
	a := ts.admin(t, "GET", "/v1/stacks/"+stack+"/attachments", "")
	var ans struct {
		Attachments []struct {
			Integration string `json:"integration"`
			Write       bool   `json:"write"`
		} `json:"attachments"`
	}
	if a.code != 200 || json.Unmarshal([]byte(a.body), &ans) != nil {
		t.Fatalf("GET %s's attachments: %d %s", stack, a.code, a.body)
	}
	for _, at := range ans.Attachments {
		if at.Integration == integration && at.Write {
			return true
		}
	}
	return false
}

// mvBAuto is an integration in team-b whose autoattach rule attaches stacks labelled mv-b-rule
// for write.
var mvBAuto = struct{ path, body string }{"/v1/integrations/mv-b-auto",
	`{"space":"team-b","vault":{"address":"https://vault.example.com","role":"deploy"},"autoattach":[{"label":"mv-b-rule","write":true}]}`}

// TestStepsBringNoStackUnderAWriteRule: any PUT of a stack that attaches it for write (here by
// mv-b-auto's rule in team-b) needs run:create and run:update on the stack's space, not only a
// move. mv-key (space:admin on team-a and team-b, run rights only on mv-sub) may not move the
// labelled stack mv-labelled into team-b, nor reach the same end in steps: it drops the label
// and moves the stack (nothing is attached for write before or after either step, and no other
// key is bound on the teams, so both pass), but putting the label back is refused; so is
// creating a labelled stack in team-b directly. Nothing is attached, and the label stays off.
func TestStepsBringNoStackUnderAWriteRule(t *testing.T) {
	ts := startMoveServerOn(t, quietTeamsConfig,
		struct{ path, body string }{"/v1/stacks/mv-labelled", `{"space":"team-a","labels":["mv-b-rule"]}`},
		mvBAuto,
	)
	k := keyBound(t, ts, "mv-key", `[{"role":"mv-adm","space":"team-a"},{"role":"mv-adm","space":"team-b"},{"role":"mv-run","space":"mv-sub"}]`)
	if code, _, msg := putAs(t, ts, k, "/v1/stacks/mv-labelled", `{"space":"team-b","labels":["mv-b-rule"]}`); code != 403 {
		t.Fatalf("sanity: the one-step move: %d %q, want 403", code, msg)
	}
	for _, step := range []struct {
		what, path, body string
		want             int
	}{
		{"drop the label", "/v1/stacks/mv-labelled", `{"space":"team-a"}`, 200},
		{"move the unlabelled stack", "/v1/stacks/mv-labelled", `{"space":"team-b"}`, 200},
		{"label it again in team-b", "/v1/stacks/mv-labelled", `{"space":"team-b","labels":["mv-b-rule"]}`, 403},
		{"create a labelled stack in team-b", "/v1/stacks/mv-new", `{"space":"team-b","labels":["mv-b-rule"]}`, 403},
	} {
		code, errCode, msg := putAs(t, ts, k, step.path, step.body)
		if code != step.want {
			t.Errorf("%s: %d %q, want %d", step.what, code, msg, step.want)
		}
		if step.want != 403 || code != 403 {
			continue
		}
		for _, n := range []string{"forbidden", "run:create", "run:update", `"team-b"`} {
			if !strings.Contains(errCode+" "+msg, n) {
				t.Errorf("%s: refusal %s %q does not name %s", step.what, errCode, msg, n)
			}
		}
	}
	if writeAttached(t, ts, "mv-labelled", "mv-b-auto") {
		t.Error("mv-key brought mv-labelled under mv-b-auto's write rule in team-b without the run rights there")
	}
	if got := fieldOf(t, ts, "/v1/stacks/mv-labelled", "stack", "labels"); strings.Contains(got, "mv-b-rule") {
		t.Errorf("mv-labelled's labels after the refusal: %s", got)
	}
	if a := ts.admin(t, "GET", "/v1/stacks/mv-new", ""); a.code != 404 {
		t.Errorf("mv-new after the refused creation: %d %s", a.code, a.body)
	}
}

// TestInheritFlipBringsNoStackUnderAWriteRule: nor does a PUT of a space: mv-key (as in
// TestStepsBringNoStackUnderAWriteRule) puts space mv-iso under team-b with inherit false and a
// stack labelled for mv-b-auto's rule in it (no rule reaches it, both pass), then may not flip
// inherit to true, which would attach the stack for write in mv-iso, where the key lacks the
// run rights. Nothing changes.
func TestInheritFlipBringsNoStackUnderAWriteRule(t *testing.T) {
	ts := startMoveServer(t, mvBAuto)
	k := keyBound(t, ts, "mv-key", `[{"role":"mv-adm","space":"team-a"},{"role":"mv-adm","space":"team-b"},{"role":"mv-run","space":"mv-sub"}]`)
	for _, f := range []struct{ path, body string }{
		{"/v1/spaces/mv-iso", `{"parent":"team-b","inherit":false}`},
		{"/v1/stacks/mv-iso-stack", `{"space":"mv-iso","labels":["mv-b-rule"]}`},
	} {
		if code, _, msg := putAs(t, ts, k, f.path, f.body); code != 201 {
			t.Fatalf("PUT %s %s: %d %q, want 201", f.path, f.body, code, msg)
		}
	}
	code, errCode, msg := putAs(t, ts, k, "/v1/spaces/mv-iso", `{"parent":"team-b","inherit":true}`)
	if code != 403 || errCode != "forbidden" {
		t.Errorf("inherit flip attaching mv-iso-stack for write: %d %q %q, want 403 forbidden", code, errCode, msg)
	}
	for _, n := range []string{"run:create", "run:update", `"mv-iso"`} {
		if code == 403 && !strings.Contains(msg, n) {
			t.Errorf("inherit flip: refusal %q does not name %s", msg, n)
		}
	}
	if got := fieldOf(t, ts, "/v1/spaces/mv-iso", "space", "inherit"); got != "false" {
		t.Errorf("mv-iso's inherit after the refusal: %s", got)
	}
	if writeAttached(t, ts, "mv-iso-stack", "mv-b-auto") {
		t.Error("mv-key brought mv-iso-stack under mv-b-auto's write rule without the run rights there")
	}
}

// legitMove is a move a key makes there and back.
type legitMove struct {
	who, secret, what, path, there, back string
}

// moveThereAndBack makes each move there and back, each step expecting 200.
func moveThereAndBack(t *testing.T, ts *testServer, moves []legitMove) {
	t.Helper()
	for _, tc := range moves {
		for _, step := range []struct{ dir, body string }{{"there", tc.there}, {"back", tc.back}} {
			if code, _, msg := putAs(t, ts, tc.secret, tc.path, step.body); code != 200 {
				t.Errorf("%s moving a %s %s: %d %q, want 200", tc.who, tc.what, step.dir, code, msg)
			}
		}
	}
}

// TestLegitimateMovesStillWork: moves that give no key anything the mover lacks where the
// object is, or carry write attachments to where the key holds the run rights, go through: the
// root admin's, those of a key holding every action on team-a within team-a, and those of a
// key holding only space:admin within team-a, or on team-a and team-b (one binding or two)
// between the teams when no other key is bound on or below them, of a space and a stack
// without write attachments. Each moves its object there and back. A key holding the run
// rights on team-b attaches a stack there for write by a rule. Once that key is bound on
// team-b, the admin-only key's move of the space into team-b is refused: it would give that
// key the run rights on the space, which the mover lacks where the space is. That is the rule,
// not a bypass: such a move is for a key holding those rights where the space is.
func TestLegitimateMovesStillWork(t *testing.T) {
	fixtures := []struct{ path, body string }{
		{"/v1/spaces/mv-quiet", `{"parent":"team-a","inherit":true}`},
		{"/v1/stacks/mv-quiet-stack", `{"space":"mv-quiet"}`},
		{"/v1/integrations/mv-int", `{"space":"team-a","vault":{"address":"https://vault.example.com","role":"deploy"}}`},
		{"/v1/stacks/mv-victim-stack/attachments/mv-int", `{"write":true}`},
		{"/v1/stacks/mv-stack/attachments/mv-int", `{"write":true}`},
		{"/v1/integrations/mv-auto",
			`{"space":"mv-victim","aws":{"roleArn":"arn:aws:iam::123456789012:role/mv"},"autoattach":[{"label":"mv-rule","write":true}]}`},
		{"/v1/stacks/mv-victim-stack", `{"space":"mv-victim","labels":["mv-rule"]}`},
		mvBAuto,
	}

	t.Run("adminConfig", func(t *testing.T) {
		ts := startMoveServer(t, fixtures...)
		adminOnly := keyBound(t, ts, "mv-admin-only", `[{"role":"mv-adm","space":"team-a"}]`)
		moveThereAndBack(t, ts, []legitMove{
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
		})
	})

	t.Run("quietTeamsConfig", func(t *testing.T) {
		ts := startMoveServerOn(t, quietTeamsConfig, fixtures...)
		bothTeams := keyBound(t, ts, "mv-both-teams", `[{"role":"mv-adm","space":"team-a"},{"role":"mv-adm","space":"team-b"}]`)
		parentAdmin := keyBound(t, ts, "mv-prod-admin", `[{"role":"mv-adm","space":"prod"}]`)
		moveThereAndBack(t, ts, []legitMove{
			{"a key holding only space:admin on team-a and team-b", bothTeams, "space without write attachments", "/v1/spaces/mv-quiet",
				`{"parent":"team-b","inherit":true}`, `{"parent":"team-a","inherit":true}`},
			{"a key holding only space:admin on team-a and team-b", bothTeams, "stack without write attachments", "/v1/stacks/mv-quiet-stack",
				`{"space":"team-b"}`, `{"space":"mv-quiet"}`},
			{"a key holding only space:admin on prod", parentAdmin, "space without write attachments", "/v1/spaces/mv-quiet",
				`{"parent":"team-b","inherit":true}`, `{"parent":"team-a","inherit":true}`},
		})

		// A key holding the run rights on team-b brings a stack under mv-b-auto's rule there.
		writer := keyBound(t, ts, "mv-b-writer", `[{"role":"mv-adm","space":"team-b"},{"role":"mv-run","space":"team-b"}]`)
		if code, _, msg := putAs(t, ts, writer, "/v1/stacks/mv-written", `{"space":"team-b","labels":["mv-b-rule"]}`); code != 201 {
			t.Errorf("a key with the run rights on team-b creating a stack its rule attaches for write: %d %q, want 201", code, msg)
		} else if !writeAttached(t, ts, "mv-written", "mv-b-auto") {
			t.Error("mv-written is not attached to mv-b-auto for write")
		}

		// The gift case, refused by the rule: mv-b-writer, bound on team-b, would gain the run
		// rights on mv-quiet, which mv-both-teams does not hold where mv-quiet is.
		code, errCode, msg := putAs(t, ts, bothTeams, "/v1/spaces/mv-quiet", `{"parent":"team-b","inherit":true}`)
		if code != 403 || errCode != "forbidden" {
			t.Errorf("a move giving another key bound on team-b the run rights on mv-quiet: %d %q %q, want 403 forbidden", code, errCode, msg)
		}
		for _, n := range []string{"run:create", "run:update", `"mv-quiet"`} {
			if code == 403 && !strings.Contains(msg, n) {
				t.Errorf("gift move: refusal %q does not name %s", msg, n)
			}
		}
		if code == 403 && strings.Contains(msg, "mv-b-writer") {
			t.Errorf("gift move: refusal %q names the key the rights would go to", msg)
		}
		if got := fieldOf(t, ts, "/v1/spaces/mv-quiet", "space", "parent"); got != `"team-a"` {
			t.Errorf("mv-quiet's parent after the refused move: %s", got)
		}
		// A key holding those rights where the space is (the root admin) moves it.
		moveThereAndBack(t, ts, []legitMove{
			{"the root admin", rootAdminSecret, "space under the team where another key holds the run rights", "/v1/spaces/mv-quiet",
				`{"parent":"team-b","inherit":true}`, `{"parent":"team-a","inherit":true}`},
		})
	})
}

// TestMoveCarriesNoBindingBeyondTheMover: a space takes the bindings on it and below it along.
// mv-key (space:admin on team-a and team-b, the run rights only on mv-sub) binds a helper with
// space:admin and the run rights on an island under mv-sub, where it holds both; moving the
// island under team-b, where mv-key holds space:admin alone, would leave the helper there with
// the run rights: attaching team-b's integrations for write to a stack of the island, or
// labelling one under team-b's rule for write, which mv-key may not do in team-b. The move is
// refused; the same island with no key bound on it moves.
func TestMoveCarriesNoBindingBeyondTheMover(t *testing.T) {
	ts := startMoveServerOn(t, quietTeamsConfig, mvBAuto)
	k := keyBound(t, ts, "mv-key", `[{"role":"mv-adm","space":"team-a"},{"role":"mv-adm","space":"team-b"},{"role":"mv-run","space":"mv-sub"}]`)
	for _, path := range []string{"/v1/spaces/mv-island", "/v1/spaces/mv-empty"} {
		if code, _, msg := putAs(t, ts, k, path, `{"parent":"mv-sub","inherit":true}`); code != 201 {
			t.Fatalf("PUT %s: %d %q", path, code, msg)
		}
	}
	if code, _, msg := putAs(t, ts, k, "/v1/stacks/mv-island-stack", `{"space":"mv-island"}`); code != 201 {
		t.Fatalf("stack on the island: %d %q", code, msg)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: k,
		body: `{"id":"mv-island-key","bindings":[{"role":"mv-adm","space":"mv-island"},{"role":"mv-run","space":"mv-island"}]}`}); code != 201 {
		t.Fatalf("mv-key binds a key on its island: %d", code)
	}

	code, apiCode, msg := putAs(t, ts, k, "/v1/spaces/mv-island", `{"parent":"team-b","inherit":true}`)
	if code != 403 || apiCode != "forbidden" || !strings.Contains(msg, "keys bound on the space or below it hold run:create, run:update") ||
		strings.Contains(msg, "mv-island-key") {
		t.Errorf("move of mv-island, a key with the run rights bound on it, under team-b: %d %q %q, want 403 forbidden naming the actions, not the key", code, apiCode, msg)
	}
	if parent := fieldOf(t, ts, "/v1/spaces/mv-island", "space", "parent"); parent != `"mv-sub"` {
		t.Errorf("mv-island's parent after the refusal: %q, want mv-sub", parent)
	}
	if code, _, msg := putAs(t, ts, k, "/v1/spaces/mv-empty", `{"parent":"team-b","inherit":true}`); code != 200 {
		t.Errorf("move of mv-empty, no key bound on it, under team-b: %d %q, want 200", code, msg)
	}
}

// TestDeletedIDsOfAMovedSpaceComeBackOnlyThroughTheFile: a deleted stack's id comes back
// through the API only in the space it left, and a tombstone names that space by its id. Once
// the space has moved (here under mv-sub, where mv-key holds the run rights, by the root
// admin: an empty space, a move giving nothing), that id names another line of
// administration: mv-key re-creating the stack there would have its runs admitted by the old
// stack's cloud trust. The move makes the space's tombstones forget their place, so the id
// comes back only through the configuration file, for every key.
func TestDeletedIDsOfAMovedSpaceComeBackOnlyThroughTheFile(t *testing.T) {
	ts := startMoveServerOn(t, quietTeamsConfig)
	k := keyBound(t, ts, "mv-key", `[{"role":"mv-adm","space":"team-a"},{"role":"mv-adm","space":"team-b"},{"role":"mv-run","space":"mv-sub"}]`)
	ts.admin(t, "DELETE", "/v1/stacks/mv-victim-stack", "").expect(t, "delete the victim's stack", 204)
	ts.admin(t, "PUT", "/v1/spaces/mv-victim", `{"parent":"mv-sub","inherit":true}`).expect(t, "root moves the empty space under mv-sub", 200)

	code, apiCode, msg := putAs(t, ts, k, "/v1/stacks/mv-victim-stack", `{"space":"mv-victim"}`)
	if code != 409 || apiCode != "conflict" || !strings.Contains(msg, "declare it in the configuration file") {
		t.Errorf("mv-key re-creating the deleted stack's id in its moved space: %d %q %q, want 409 conflict", code, apiCode, msg)
	}
	if a := ts.admin(t, "PUT", "/v1/stacks/mv-victim-stack", `{"space":"mv-victim"}`); a.code != 409 {
		t.Errorf("root re-creating it there: %d %s, want 409", a.code, a.body)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: k,
		body: map[string]string{"stack": "mv-victim-stack", "runType": "TRACKED", "phase": "APPLYING"}}); code == 201 {
		t.Errorf("mv-key started an APPLYING run of the deleted stack's id: %d", code)
	}
}
