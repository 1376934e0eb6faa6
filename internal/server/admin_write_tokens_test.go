package server

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// writeTokenFixtures are the objects the root admin puts before the write-token tests, all in
// team-a: an integration attached to nothing, one attached to stack wt-attached for write, one
// automatically attached for write to stack wt-ruled by its label, and the stacks.
var writeTokenFixtures = []struct{ path, body string }{
	{"/v1/stacks/wt-plain", `{"space":"team-a"}`},
	{"/v1/stacks/wt-labelled", `{"space":"team-a","labels":["wt-new"]}`},
	{"/v1/stacks/wt-attached", `{"space":"team-a"}`},
	{"/v1/stacks/wt-ruled", `{"space":"team-a","labels":["wt-rule"]}`},
	{"/v1/integrations/wt-own", `{"space":"team-a","vault":{"address":"https://own.example.com","role":"deploy"}}`},
	{"/v1/integrations/wt-direct", `{"space":"team-a","vault":{"address":"https://vault.example.com","role":"deploy"}}`},
	{"/v1/stacks/wt-attached/attachments/wt-direct", `{"write":true}`},
	{"/v1/integrations/wt-auto", `{"space":"team-a","vault":{"address":"https://vault.example.com","role":"deploy"},"autoattach":[{"label":"wt-rule","write":true}]}`},
}

// writeTokenChanges are the changes that direct stacks' write-scope tokens somewhere.
var writeTokenChanges = []struct{ what, path, body string }{
	{"an attachment for write", "/v1/stacks/wt-plain/attachments/wt-own", `{"write":true}`},
	{"an integration with an autoattach rule for write", "/v1/integrations/wt-new",
		`{"space":"team-a","vault":{"address":"https://elsewhere.example.com","role":"deploy"},"autoattach":[{"label":"wt-new","write":true}]}`},
	{"a change of an integration attached for write", "/v1/integrations/wt-direct",
		`{"space":"team-a","vault":{"address":"https://elsewhere.example.com","role":"deploy"}}`},
	{"a change of an integration autoattached for write", "/v1/integrations/wt-auto",
		`{"space":"team-a","audience":"sts.amazonaws.com","vault":{"address":"https://vault.example.com","role":"deploy"},"autoattach":[{"label":"wt-rule","write":true}]}`},
}

// newBoundKey creates, as the root admin, a role holding actions and an API key bound to it on
// team-a, and returns the key's secret.
func newBoundKey(t *testing.T, ts *testServer, id string, actions ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string][]string{"actions": actions})
	ts.admin(t, "PUT", "/v1/roles/"+id, string(body)).expect(t, "role "+id, 201)
	var created struct {
		Secret string `json:"secret"`
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret,
		body: `{"id":"` + id + `","bindings":[{"role":"` + id + `","space":"team-a"}]}`, out: &created}); code != 201 {
		t.Fatalf("create key %s: %d", id, code)
	}
	return created.Secret
}

// TestDirectingWriteTokensNeedsRunRights: space:admin alone does not let a key direct a
// stack's write-scope tokens, which stand for run:create and run:update: an attachment for
// write, an integration with an autoattach rule for write, and a change of an integration
// attached for write (directly or automatically) are refused with 403 naming the actions the
// key lacks, and audited as denied under the space. A key holding both may make each; an
// integration used for nothing, and the deletion of a write attachment, need space:admin only.
func TestDirectingWriteTokensNeedsRunRights(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	for _, f := range writeTokenFixtures {
		if a := ts.admin(t, "PUT", f.path, f.body); a.code != 200 && a.code != 201 {
			t.Fatalf("fixture PUT %s: %d %s", f.path, a.code, a.body)
		}
	}
	adminOnly := newBoundKey(t, ts, "wt-admin-only", "space:admin")
	halfRun := newBoundKey(t, ts, "wt-half-run", "space:admin", "run:create")
	fullRun := newBoundKey(t, ts, "wt-full-run", "space:admin", "run:create", "run:update")

	answer := func(method, path, secret, body string) (int, string) {
		t.Helper()
		var out struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		code := ts.call(t, apiRequest{method: method, path: path, bearer: secret, body: body, out: &out})
		return code, out.Error.Message
	}
	for _, tc := range []struct {
		key, secret     string
		want            int
		names, notNamed []string
	}{
		{"space:admin only", adminOnly, 403, []string{"run:create", "run:update"}, nil},
		{"space:admin and run:create", halfRun, 403, []string{"run:update"}, []string{"run:create"}},
		{"space:admin, run:create and run:update", fullRun, 200, nil, nil},
	} {
		for _, ch := range writeTokenChanges {
			code, msg := answer("PUT", ch.path, tc.secret, ch.body)
			if tc.want == 200 {
				if code != 200 && code != 201 {
					t.Errorf("%s, %s: %d %q, want it applied", tc.key, ch.what, code, msg)
				}
				continue
			}
			if code != 403 {
				t.Errorf("%s, %s: %d, want 403", tc.key, ch.what, code)
			}
			for _, n := range tc.names {
				if !strings.Contains(msg, n) {
					t.Errorf("%s, %s: refusal %q does not name %s", tc.key, ch.what, msg, n)
				}
			}
			for _, n := range tc.notNamed {
				if strings.Contains(msg, n) {
					t.Errorf("%s, %s: refusal %q names %s, which the key holds", tc.key, ch.what, msg, n)
				}
			}
		}
	}

	denied := 0
	for _, e := range auditEvents(t, ts, "team-a", 100) {
		if e.Outcome == "denied" && e.Actor == "api_key:wt-admin-only" && strings.Contains(e.Detail, "run:update") {
			denied++
		}
	}
	if denied != len(writeTokenChanges) {
		t.Errorf("team-a's trail holds %d denied changes by wt-admin-only, want %d", denied, len(writeTokenChanges))
	}

	// What directs no write-scope token needs space:admin only.
	if code, msg := answer("PUT", "/v1/integrations/wt-unused", adminOnly,
		`{"space":"team-a","vault":{"address":"https://unused.example.com","role":"deploy"}}`); code != 201 {
		t.Errorf("an integration attached to nothing, by space:admin only: %d %q, want 201", code, msg)
	}
	if code, msg := answer("PUT", "/v1/stacks/wt-plain/attachments/wt-unused", adminOnly, `{"read":true}`); code != 201 {
		t.Errorf("an attachment for read, by space:admin only: %d %q, want 201", code, msg)
	}
	if code, msg := answer("DELETE", "/v1/stacks/wt-attached/attachments/wt-direct", adminOnly, ""); code != 204 {
		t.Errorf("deleting an attachment for write, by space:admin only: %d %q, want 204", code, msg)
	}
}

// TestSpaceAdminCannotHarvestWriteTokens: a key holding only space:admin on team-a may not
// start runs of app-a, and cannot point an integration of its own, on a server of its own, at
// app-a's write phase either: when the orchestrator's run of app-a asks for Vault credentials,
// no write-scope token reaches that server.
func TestSpaceAdminCannotHarvestWriteTokens(t *testing.T) {
	var mu sync.Mutex
	var captured []string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var login struct{ JWT string }
		_ = json.Unmarshal(body, &login)
		mu.Lock()
		captured = append(captured, login.JWT)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"errors":["permission denied"]}`)
	}))
	defer evil.Close()

	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	attacker := newBoundKey(t, ts, "ta-admin", "space:admin")
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: attacker, body: map[string]string{"stack": "app-a", "runType": "TRACKED"}}); code != 403 {
		t.Fatalf("attacker starting a run: %d, want 403", code)
	}
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/integrations/ta-vault", bearer: attacker,
		body: `{"space":"team-a","audience":"sts.amazonaws.com","vault":{"address":"` + evil.URL + `","role":"deploy"}}`}); code != 201 {
		t.Fatalf("attacker PUT of an integration used for nothing: %d, want 201", code)
	}
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/stacks/app-a/attachments/ta-vault", bearer: attacker, body: `{"write":true}`}); code != 403 {
		t.Fatalf("attacker attaching its integration to app-a for write: %d, want 403", code)
	}

	run := ts.createRun(t, "app-a", "TRACKED")
	for _, phase := range []string{"PLANNING", "APPLYING"} {
		if code := ts.setPhase(t, run.Run.ID, phase); code != 200 {
			t.Fatalf("%s: %d", phase, code)
		}
	}
	ts.credentials(t, run.RunToken, "vault", "")

	mu.Lock()
	defer mu.Unlock()
	for _, jwt := range captured {
		parts := strings.Split(jwt, ".")
		if len(parts) != 3 {
			continue
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c struct{ Sub, Aud, Scope string }
		_ = json.Unmarshal(payload, &c)
		if c.Scope == "write" {
			t.Errorf("a key with only space:admin on team-a harvested a write-scope token of app-a: sub %q aud %q", c.Sub, c.Aud)
		}
	}
}

// TestWriteAttachmentNotCarriedByAStackMove: a key holding space:admin on team-a and
// run:create+run:update only on a child space (wt2-sub) cannot direct the write-scope tokens of
// a stack in team-a by a detour: it may not move the stack into wt2-sub itself; once another
// key has, it attaches its own integration for write there (it holds the run rights there), and
// moving the stack back, with its write attachment, into team-a, where it lacks them, is
// refused.
func TestWriteAttachmentNotCarriedByAStackMove(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	for _, f := range []struct{ path, body string }{
		{"/v1/spaces/wt2-sub", `{"parent":"team-a","inherit":true}`},
		{"/v1/stacks/wt2-victim", `{"space":"team-a"}`},
		{"/v1/roles/wt2-adm", `{"actions":["space:admin"]}`},
		{"/v1/roles/wt2-run", `{"actions":["run:create","run:update"]}`},
	} {
		if a := ts.admin(t, "PUT", f.path, f.body); a.code != 200 && a.code != 201 {
			t.Fatalf("fixture PUT %s: %d %s", f.path, a.code, a.body)
		}
	}
	var created struct {
		Secret string `json:"secret"`
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret,
		body: `{"id":"wt2-key","bindings":[{"role":"wt2-adm","space":"team-a"},{"role":"wt2-run","space":"wt2-sub"}]}`, out: &created}); code != 201 {
		t.Fatalf("create key: %d", code)
	}
	k := created.Secret
	do := func(method, path, body string) int {
		t.Helper()
		return ts.call(t, apiRequest{method: method, path: path, bearer: k, body: body})
	}
	// Sanity: the key may not attach for write in team-a directly.
	if code := do("PUT", "/v1/integrations/wt2-evil", `{"space":"team-a","vault":{"address":"https://evil.example.com","role":"deploy"}}`); code != 201 {
		t.Fatalf("integration used for nothing: %d", code)
	}
	if code := do("PUT", "/v1/stacks/wt2-victim/attachments/wt2-evil", `{"write":true}`); code != 403 {
		t.Fatalf("direct write attachment in team-a: %d, want 403", code)
	}
	// The detour. The key may not make its first step (a move never widens the mover's reach:
	// TestMoveNeverWidensTheMoversReach); a key holding the rights on both places makes it.
	if code := do("PUT", "/v1/stacks/wt2-victim", `{"space":"wt2-sub"}`); code != 403 {
		t.Fatalf("move victim into wt2-sub by the key: %d, want 403", code)
	}
	if a := ts.admin(t, "PUT", "/v1/stacks/wt2-victim", `{"space":"wt2-sub"}`); a.code != 200 {
		t.Fatalf("move victim into wt2-sub: %d %s", a.code, a.body)
	}
	if code := do("PUT", "/v1/stacks/wt2-victim/attachments/wt2-evil", `{"write":true}`); code != 201 && code != 200 {
		t.Fatalf("write attachment in wt2-sub: %d", code)
	}
	back := do("PUT", "/v1/stacks/wt2-victim", `{"space":"team-a"}`)
	a := ts.admin(t, "GET", "/v1/stacks/wt2-victim/attachments", "")
	t.Logf("move back: %d; victim's attachments now: %s", back, a.body)
	if back != 403 {
		t.Errorf("a key without run:create/run:update on team-a directed a team-a stack's write-scope tokens to its own integration (moved back with status %d): %s", back, a.body)
	}
}

// TestWriteAttachmentNotCarriedByASpaceMove: nor by the same detour with a space: the key
// (space:admin on team-a, run rights only on wt3-sub) may not move the victim's space under
// wt3-sub itself; once another key has, it attaches its integration for write to the victim
// stack there, and moving the space back is refused.
func TestWriteAttachmentNotCarriedByASpaceMove(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	for _, f := range []struct{ path, body string }{
		{"/v1/spaces/wt3-sub", `{"parent":"team-a","inherit":true}`},
		{"/v1/spaces/wt3-victim", `{"parent":"team-a","inherit":true}`},
		{"/v1/stacks/wt3-victim-stack", `{"space":"wt3-victim"}`},
		{"/v1/roles/wt3-adm", `{"actions":["space:admin"]}`},
		{"/v1/roles/wt3-run", `{"actions":["run:create","run:update"]}`},
	} {
		if a := ts.admin(t, "PUT", f.path, f.body); a.code != 200 && a.code != 201 {
			t.Fatalf("fixture PUT %s: %d %s", f.path, a.code, a.body)
		}
	}
	var created struct {
		Secret string `json:"secret"`
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret,
		body: `{"id":"wt3-key","bindings":[{"role":"wt3-adm","space":"team-a"},{"role":"wt3-run","space":"wt3-sub"}]}`, out: &created}); code != 201 {
		t.Fatalf("create key: %d", code)
	}
	k := created.Secret
	do := func(method, path, body string) int {
		t.Helper()
		return ts.call(t, apiRequest{method: method, path: path, bearer: k, body: body})
	}
	if code := do("PUT", "/v1/integrations/wt3-evil", `{"space":"team-a","vault":{"address":"https://evil.example.com","role":"deploy"}}`); code != 201 {
		t.Fatalf("integration used for nothing: %d", code)
	}
	if code := do("PUT", "/v1/stacks/wt3-victim-stack/attachments/wt3-evil", `{"write":true}`); code != 403 {
		t.Fatalf("direct write attachment in wt3-victim: %d, want 403", code)
	}
	if code := do("PUT", "/v1/spaces/wt3-victim", `{"parent":"wt3-sub","inherit":true}`); code != 403 {
		t.Fatalf("move wt3-victim under wt3-sub by the key: %d, want 403", code)
	}
	if a := ts.admin(t, "PUT", "/v1/spaces/wt3-victim", `{"parent":"wt3-sub","inherit":true}`); a.code != 200 {
		t.Fatalf("move wt3-victim under wt3-sub: %d %s", a.code, a.body)
	}
	if code := do("PUT", "/v1/stacks/wt3-victim-stack/attachments/wt3-evil", `{"write":true}`); code != 201 && code != 200 {
		t.Fatalf("write attachment under wt3-sub: %d", code)
	}
	back := do("PUT", "/v1/spaces/wt3-victim", `{"parent":"team-a","inherit":true}`)
	a := ts.admin(t, "GET", "/v1/stacks/wt3-victim-stack/attachments", "")
	t.Logf("move back: %d; attachments: %s", back, a.body)
	if back != 403 {
		t.Errorf("a key without run rights on wt3-victim left its integration attached for write to wt3-victim-stack (space moved back with %d): %s", back, a.body)
	}
}
