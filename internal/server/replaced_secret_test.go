package server

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// heldRequest sends method path with bearer and Content-Length of body and Expect:
// 100-continue, waits for "100 Continue" (net/http sends it when the handler first reads the
// body, that is after it authenticated the key), and returns a function that sends the body
// and reads the answer.
func heldRequest(t *testing.T, ts *testServer, method, path, bearer, body string) func() (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		method, path, bearer, len(body))
	br := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, "100") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	if l, _ := br.ReadString('\n'); l != "\r\n" {
		t.Fatalf("after 100 Continue: %q", l)
	}
	return func() (int, string) {
		if _, err := io.WriteString(conn, body); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
}

// A key's secret is replaced as the API says ("delete it first to replace its secret"): DELETE,
// then POST with the same id. A request the old (leaked) secret sent before the deletion, whose
// body arrives after both were answered, gets none of the new key's rights. On the old code it
// was served with them: a run in APPLYING and write-scope tokens.
func TestOldSecretGetsNothingOfItsReplacement(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	const bindings = `[{"role":"orchestrator","space":"prod"}]`
	oldSecret := createKey(t, ts, "rot", bindings)
	send := heldRequest(t, ts, "POST", "/v1/runs", oldSecret, `{"stack":"vpc-prod","runType":"TRACKED","phase":"APPLYING"}`)

	// The secret leaked: the admin replaces it.
	ts.admin(t, "DELETE", "/v1/api-keys/rot", "").expect(t, "delete rot", 204)
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: oldSecret, body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}}); code != 401 {
		t.Fatalf("old secret after the deletion: %d, want 401", code)
	}
	createKey(t, ts, "rot", bindings)

	code, raw := send()
	if code != 401 {
		t.Errorf("the old secret's request: %d, want 401: %.200s", code, raw)
	}
	if code == 201 {
		var ans runAnswer
		_ = json.Unmarshal([]byte(raw), &ans)
		var tok tokenAnswer
		var tcode int
		for i := 0; i < 40; i++ { // the run may start up to SettleTime ahead
			if tok, tcode = ts.mint(t, ans.RunToken, ""); tcode == 200 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("the old secret, sent before DELETE and the re-creation were answered, got %d after them: run %s by %q in %s; its token: %d %s",
			code, ans.Run.ID, ans.Run.CreatedBy, ans.Run.Phase, tcode, scopeClaim(tok.Token))
	}
}

func scopeClaim(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	var c struct {
		Scope string `json:"scope"`
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &c)
	return "scope=" + c.Scope
}

// The same on the administration API: the old secret of a replaced admin key, its request
// authenticated before the DELETE, creates no key once its body arrives after the DELETE and the
// re-creation were answered. On the old code it minted a new admin key, a fresh secret that
// survived the replacement.
func TestOldAdminSecretCreatesNoKeyAfterReplacement(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	const bindings = `[{"role":"admin","space":"prod"}]`
	oldSecret := createKey(t, ts, "boss", bindings)
	send := heldRequest(t, ts, "POST", "/v1/api-keys", oldSecret, `{"id":"backdoor","bindings":[{"role":"admin","space":"prod"}]}`)
	replaceKey(t, ts, "boss", bindings)
	if code, raw := send(); code != 401 {
		t.Errorf("the replaced secret's key creation after DELETE 204: %d %.80s..., want 401", code, raw)
	}
}

// Control-plane 401s are audit events, on the administration routes too: a replaced admin
// secret's requests, sent before the replacement and refused with 401 once their bodies arrive,
// are each recorded as a denied event. On the old code neither was in the trail.
func TestReplacedSecretAdminRefusalsRecorded(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	const bindings = `[{"role":"admin","space":"prod"}]`
	oldSecret := createKey(t, ts, "boss", bindings)
	sendKey := heldRequest(t, ts, "POST", "/v1/api-keys", oldSecret, `{"id":"backdoor","bindings":[{"role":"admin","space":"prod"}]}`)
	sendStack := heldRequest(t, ts, "PUT", "/v1/stacks/backdoor-stack", oldSecret, `{"space":"prod"}`)
	replaceKey(t, ts, "boss", bindings)
	denied := func() int {
		var trail struct {
			Events []struct{ Action, Outcome, Actor, Detail string } `json:"events"`
		}
		ts.call(t, apiRequest{method: "GET", path: "/v1/audit?limit=1000", bearer: rootAdminSecret, out: &trail})
		n := 0
		for _, e := range trail.Events {
			if e.Outcome == "denied" {
				n++
			}
		}
		return n
	}
	before := denied()
	codeKey, _ := sendKey()
	codeStack, _ := sendStack()
	if codeKey != 401 || codeStack != 401 {
		t.Fatalf("refusals: %d %d, want 401 401", codeKey, codeStack)
	}
	if after := denied(); after != before+2 {
		t.Errorf("two admin requests of the replaced secret refused with 401 (POST /v1/api-keys, PUT /v1/stacks): %d denied events before, %d after: neither is in the trail", before, after)
	}
}

// createKey creates API key id with bindings (JSON) through the root admin key and returns its
// secret.
func createKey(t *testing.T, ts *testServer, id, bindings string) string {
	t.Helper()
	var created struct {
		Secret string `json:"secret"`
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret,
		body: `{"id":"` + id + `","bindings":` + bindings + `}`, out: &created}); code != 201 || created.Secret == "" {
		t.Fatalf("create key %s: %d", id, code)
	}
	return created.Secret
}

// replaceKey replaces the secret of API key id as the API says: DELETE, then POST with the same id.
func replaceKey(t *testing.T, ts *testServer, id, bindings string) {
	t.Helper()
	ts.admin(t, "DELETE", "/v1/api-keys/"+id, "").expect(t, "delete "+id, 204)
	createKey(t, ts, id, bindings)
}
