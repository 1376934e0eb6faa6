package server

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
)

// adminAnswer is an administration endpoint's answer.
type adminAnswer struct {
	code int
	etag string
	body string
	err  envelope
}

// adminClient sends administration requests to a test server with the root admin key.
type adminClient struct {
	ts      *testServer
	ifMatch string // If-Match header of each request, when not empty
}

// ifMatch returns an administration client whose requests carry the header If-Match: etag.
func (ts *testServer) ifMatch(etag string) adminClient {
	return adminClient{ts: ts, ifMatch: etag}
}

// admin sends an administration request with the root admin key.
func (ts *testServer) admin(t *testing.T, method, path, body string) adminAnswer {
	t.Helper()
	return adminClient{ts: ts}.admin(t, method, path, body)
}

// admin sends an administration request with the root admin key and, when the client has
// one, an If-Match header.
func (c adminClient) admin(t *testing.T, method, path, body string) adminAnswer {
	t.Helper()
	req, err := http.NewRequest(method, c.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+rootAdminSecret)
	req.Header.Set("Content-Type", "application/json")
	if c.ifMatch != "" {
		req.Header.Set("If-Match", c.ifMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ans := adminAnswer{code: resp.StatusCode, etag: resp.Header.Get("ETag"), body: string(raw)}
	if resp.StatusCode >= 400 {
		assertEnvelope(t, resp.StatusCode, raw)
		_ = json.Unmarshal(raw, &ans.err)
	}
	return ans
}

// expect fails the test unless the answer has status code and its body (an error's message)
// holds every string, ignoring case (a message starts with a capital).
func (a adminAnswer) expect(t *testing.T, what string, code int, holds ...string) {
	t.Helper()
	if a.code != code {
		t.Fatalf("%s: status %d, want %d: %s", what, a.code, code, a.body)
	}
	text := a.body
	if code >= 400 {
		text = a.err.Error.Message
	}
	for _, h := range holds {
		if !strings.Contains(strings.ToLower(text), strings.ToLower(h)) {
			t.Errorf("%s: answer does not hold %s: %s", what, h, a.body)
		}
	}
}

func TestAdminVersionsAndIfMatch(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	a := ts.admin(t, "PUT", "/v1/stacks/web", `{"space":"prod"}`)
	a.expect(t, "create", 201, `"stack":{"id":"web","space":"prod"`, `"managedBy":"api","version":1}`)
	if a.etag != `"1"` {
		t.Errorf("ETag after create = %s", a.etag)
	}
	if a = ts.admin(t, "GET", "/v1/stacks/web", ""); a.etag != `"1"` {
		t.Errorf("GET ETag = %s", a.etag)
	}
	a = ts.ifMatch(`"1"`).admin(t, "PUT", "/v1/stacks/web", `{"space":"prod","labels":["a"]}`)
	a.expect(t, "replace at the current version", 200, `"labels":["a"]`, `"version":2`)
	if a.etag != `"2"` {
		t.Errorf("ETag after replace = %s", a.etag)
	}
	ts.ifMatch(`"1"`).admin(t, "PUT", "/v1/stacks/web", `{"space":"team-a"}`).expect(t, "replace at an old version", 412, "version 2, not 1")
	ts.admin(t, "GET", "/v1/stacks/web", "").expect(t, "after a 412", 200, `"space":"prod"`, `"version":2`)
	ts.admin(t, "PUT", "/v1/stacks/web", `{"space":"prod"}`).expect(t, "replace without If-Match", 200, `"version":3`)
	ts.ifMatch(`"1"`).admin(t, "PUT", "/v1/stacks/new", `{"space":"prod"}`).expect(t, "create with If-Match", 412)
	ts.admin(t, "GET", "/v1/stacks/new", "").expect(t, "after a refused create", 404)
	ts.ifMatch("three").admin(t, "PUT", "/v1/stacks/web", `{"space":"prod"}`).expect(t, "a malformed If-Match", 400, "If-Match")
	for _, odd := range []string{`"3`, `W/3`, `"3", *`, `"3",, three`} {
		ts.ifMatch(odd).admin(t, "PUT", "/v1/stacks/web", `{"space":"prod"}`).expect(t, "If-Match "+odd, 400, "If-Match")
	}
	// Entity tags that are no version's ETag match nothing, as a weak one does not (If-Match
	// compares strongly); a list matches when one of its versions does.
	for _, never := range []string{`"+3"`, `"003"`, `"abc"`, `W/"3"`, `W/"3", "x"`} {
		ts.ifMatch(never).admin(t, "PUT", "/v1/stacks/web", `{"space":"prod"}`).expect(t, "If-Match "+never, 412, "names no version")
	}
	ts.ifMatch(`"1", "2"`).admin(t, "PUT", "/v1/stacks/web", `{"space":"prod"}`).expect(t, "a list of old versions", 412, "version 3, none of those")
	ts.ifMatch(`"1", "2"`).admin(t, "PUT", "/v1/stacks/not-there", `{"space":"prod"}`).expect(t, "a list on a stack that does not exist", 412, "does not exist")
	ts.ifMatch(`*`).admin(t, "PUT", "/v1/stacks/other", `{"space":"prod"}`).expect(t, "If-Match * on a stack that does not exist", 412)
	ts.admin(t, "GET", "/v1/stacks/other", "").expect(t, "after a refused If-Match *", 404)
	ts.ifMatch(`*`).admin(t, "PUT", "/v1/stacks/web", `{"space":"prod"}`).expect(t, "If-Match * on a stack that exists", 200, `"version":4`)
	ts.ifMatch(`"4"`).admin(t, "PUT", "/v1/stacks/web", `{"space":"prod"}`).expect(t, "replace at the current version", 200, `"version":5`)
	ts.ifMatch(`W/"5", "1", "5"`).admin(t, "PUT", "/v1/stacks/web", `{"space":"prod"}`).expect(t, "a list naming the current version", 200, `"version":6`)
	ts.ifMatch(`"2"`).admin(t, "DELETE", "/v1/stacks/web", "").expect(t, "delete at an old version", 412, "version 6, not 2")
	ts.ifMatch(`"abc"`).admin(t, "DELETE", "/v1/stacks/web", "").expect(t, "delete with a tag that is no version", 412, "names no version")
	ts.ifMatch(`"6"`).admin(t, "DELETE", "/v1/stacks/web", "").expect(t, "delete at the current version", 204)
	ts.ifMatch(`"6"`).admin(t, "DELETE", "/v1/stacks/web", "").expect(t, "delete with If-Match of a stack that does not exist", 404)
	ts.admin(t, "GET", "/v1/stacks/web", "").expect(t, "after delete", 404)
	ts.admin(t, "DELETE", "/v1/stacks/web", "").expect(t, "delete again", 404)

	// The file's objects are listed as config's, at version 1, and cannot change here.
	ts.admin(t, "GET", "/v1/stacks/vpc-prod", "").expect(t, "a file stack", 200, `"managedBy":"config","version":1`)
	ts.admin(t, "PUT", "/v1/stacks/vpc-prod", `{"space":"prod"}`).expect(t, "replace a file stack", 409, "configuration file")
	ts.admin(t, "DELETE", "/v1/stacks/vpc-prod", "").expect(t, "delete a file stack", 409, "configuration file")
	ts.admin(t, "PUT", "/v1/roles/orchestrator", `{"actions":["run:read"]}`).expect(t, "replace a file role", 409, "configuration file")
	ts.admin(t, "DELETE", "/v1/api-keys/ci", "").expect(t, "delete a file key", 409, "configuration file")
}

// TestAdminStrictBodies: a body with an unknown, duplicate or mistyped field, or that is not a
// JSON object, is 400 naming the field.
func TestAdminStrictBodies(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	tests := []struct {
		name, method, path, body string
		holds                    []string
	}{
		{"unknown field", "PUT", "/v1/stacks/s", `{"space":"prod","lables":["a"]}`, []string{`lables`}},
		{"file spelling", "PUT", "/v1/spaces/s", `{"parent":"prod","subject_template":"x"}`, []string{`subject_template`}},
		{"nested unknown field", "PUT", "/v1/integrations/i", `{"space":"prod","aws":{"role_arn":"arn:aws:iam::123456789012:role/x"}}`, []string{`aws.role_arn`}},
		{"duplicate field", "PUT", "/v1/stacks/s", `{"space":"prod","space":"dev"}`, []string{`space`}},
		{"wrong type", "PUT", "/v1/stacks/s", `{"space":["prod"]}`, []string{`space`}},
		{"bad duration", "PUT", "/v1/integrations/i", `{"space":"prod","duration":"an hour","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`, []string{`duration`}},
		{"case folded name", "PUT", "/v1/stacks/s", `{"Space":"prod"}`, []string{`Space`}},
		{"id differs from the path", "PUT", "/v1/stacks/s", `{"id":"t","space":"prod"}`, []string{`Field "id" is "t" but the path names "s"`}},
		{"not an object", "PUT", "/v1/stacks/s", `["prod"]`, []string{"JSON object"}},
		{"not JSON", "PUT", "/v1/stacks/s", `space: prod`, []string{"JSON"}},
		{"empty", "PUT", "/v1/stacks/s", ``, []string{"body"}},
		{"attachment unknown field", "PUT", "/v1/stacks/vpc-prod/attachments/x", `{"read":true,"scope":"write"}`, []string{`scope`}},
		{"key with its own hash", "POST", "/v1/api-keys", `{"id":"k","secretSha256":"` + strings.Repeat("a", 64) + `","bindings":[{"role":"orchestrator","space":"prod"}]}`, []string{`secretSha256`}},
		{"key without bindings", "POST", "/v1/api-keys", `{"id":"k"}`, []string{`bindings`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.admin(t, tt.method, tt.path, tt.body).expect(t, tt.name, 400, tt.holds...)
		})
	}
	ts.admin(t, "GET", "/v1/stacks/s", "").expect(t, "nothing was created", 404)
}

// TestAdminChangesAreAudited: every change is an event with its section 8 action, the key as
// actor, the object's space (and stack), and a detail saying what changed; no secret is in
// the trail or the logs.
func TestAdminChangesAreAudited(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	ts.admin(t, "PUT", "/v1/spaces/team", `{"parent":"prod","inherit":true}`).expect(t, "space", 201)
	ts.admin(t, "PUT", "/v1/stacks/dns", `{"space":"team"}`).expect(t, "stack", 201)
	ts.admin(t, "PUT", "/v1/stacks/dns", `{"space":"team","labels":["net"]}`).expect(t, "stack replaced", 200)
	ts.admin(t, "PUT", "/v1/integrations/aws-w", `{"space":"team","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"}}`).expect(t, "integration", 201)
	ts.admin(t, "PUT", "/v1/stacks/dns/attachments/aws-w", `{"write":true}`).expect(t, "attachment", 201)
	ts.admin(t, "PUT", "/v1/roles/reader", `{"actions":["run:read"]}`).expect(t, "role", 201)
	key := ts.admin(t, "POST", "/v1/api-keys", `{"id":"reader-key","bindings":[{"role":"reader","space":"team"}]}`)
	key.expect(t, "key", 201, `"apiKey":{"id":"reader-key","bindings":[{"role":"reader","space":"team"}],"managedBy":"api","version":1}`)
	var created struct{ Secret string }
	if err := json.Unmarshal([]byte(key.body), &created); err != nil || !strings.HasPrefix(created.Secret, config.APIKeySecretPrefix) {
		t.Fatalf("POST api-keys secret %q, %v", created.Secret, err)
	}
	if strings.Contains(ts.admin(t, "GET", "/v1/api-keys", "").body, sha256Hex(created.Secret)) {
		t.Error("the key listing shows the secret's hash")
	}
	ts.admin(t, "DELETE", "/v1/stacks/dns/attachments/aws-w", "").expect(t, "delete attachment", 204)
	ts.admin(t, "PUT", "/v1/stacks/dns/attachments/aws-w", `{"write":true}`).expect(t, "attachment again", 201)
	ts.admin(t, "PUT", "/v1/stacks/dns/attachments/aws-w", `{"read":true}`).expect(t, "attachment narrowed to read", 200)
	ts.admin(t, "DELETE", "/v1/stacks/dns", "").expect(t, "delete stack", 204)
	ts.admin(t, "DELETE", "/v1/integrations/aws-w", "").expect(t, "delete integration", 204)
	ts.admin(t, "DELETE", "/v1/api-keys/reader-key", "").expect(t, "delete key", 204)
	ts.admin(t, "DELETE", "/v1/roles/reader", "").expect(t, "delete role", 204)
	ts.admin(t, "DELETE", "/v1/spaces/team", "").expect(t, "delete space", 204)

	type want struct{ action, space, stack, integration, detail string }
	// Each detail names the values, so the trail tells who granted what.
	role := `{"role":"reader","space":"team"}`
	wants := []want{
		{"space.put", "team", "", "", `space team created at version 1: {"id":"team","parent":"prod","inherit":true}`},
		{"stack.put", "team", "dns", "", `stack dns created at version 1: {"id":"dns","space":"team"}`},
		{"stack.put", "team", "dns", "", `stack dns replaced with version 2; changed: labels none → ["net"]`},
		{"integration.put", "team", "", "aws-w", `integration aws-w created at version 1: {"id":"aws-w","space":"team","aws":{"mode":"web-identity","roleArn":"arn:aws:iam::123456789012:role/w","sessionTags":false}}`},
		{"attachment.put", "team", "dns", "aws-w", `attachment dns/aws-w created at version 1: {"stack":"dns","integration":"aws-w","read":false,"write":true}`},
		{"role.put", "root", "", "", `role reader created at version 1: {"id":"reader","actions":["run:read"]}`},
		{"api_key.create", "team", "", "", `created API key "reader-key" with 1 binding(s): reader on team`},
		{"attachment.delete", "team", "dns", "aws-w", `attachment dns/aws-w deleted, was {"stack":"dns","integration":"aws-w","read":false,"write":true}`},
		{"attachment.put", "team", "dns", "aws-w", `attachment dns/aws-w created at version 3: {"stack":"dns","integration":"aws-w","read":false,"write":true}`},
		{"attachment.put", "team", "dns", "aws-w", `attachment dns/aws-w replaced with version 4; changed: read false → true, write true → false`},
		{"stack.delete", "team", "dns", "", `stack dns deleted, was {"id":"dns","space":"team","labels":["net"]}; with it attachment dns/aws-w; the stack's unfinished runs end`},
		{"integration.delete", "team", "", "aws-w", `integration aws-w deleted, was {"id":"aws-w","space":"team","aws":{"mode":"web-identity","roleArn":"arn:aws:iam::123456789012:role/w","sessionTags":false}}`},
		{"api_key.delete", "team", "", "", `api_key reader-key deleted, was {"id":"reader-key","bindings":[` + role + `]}; the unfinished runs it started end`},
		{"role.delete", "root", "", "", `role reader deleted, was {"id":"reader","actions":["run:read"]}`},
		{"space.delete", "team", "", "", `space team deleted, was {"id":"team","parent":"prod","inherit":true}`},
	}
	var got []want
	for _, e := range auditEvents(t, ts, "root", 100) {
		if strings.HasSuffix(e.Action, ".put") || strings.HasSuffix(e.Action, ".delete") || e.Action == "api_key.create" {
			if e.Actor != "api_key:root-admin" || e.Outcome != audit.Success {
				t.Errorf("event %s: actor %q, outcome %q", e.Action, e.Actor, e.Outcome)
			}
			got = append(got, want{e.Action, e.Space, e.Stack, e.Integration, e.Detail})
		}
		if raw, _ := json.Marshal(e); strings.Contains(string(raw), created.Secret) || strings.Contains(string(raw), sha256Hex(created.Secret)) {
			t.Errorf("an audit event holds the new key's secret or its hash: %s", raw)
		}
	}
	if !slices.Equal(got, wants) {
		t.Errorf("change events:\n got %+v\nwant %+v", got, wants)
	}
	if logs := ts.Logs.String(); strings.Contains(logs, created.Secret) || strings.Contains(logs, sha256Hex(created.Secret)) {
		t.Error("the logs hold the new key's secret or its hash")
	}
}

// TestDeletingWhatIsInUse: a deletion other objects still refer to is 409, naming what refers
// to the object: the stack in a space, the API key bound on it.
func TestDeletingWhatIsInUse(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	ts.admin(t, "PUT", "/v1/spaces/bnd", `{"parent":"prod"}`).expect(t, "create the space", 201)
	ts.admin(t, "POST", "/v1/api-keys", `{"id":"kb","bindings":[{"role":"orchestrator","space":"bnd"}]}`).expect(t, "a key bound on it", 201)
	ts.admin(t, "DELETE", "/v1/spaces/bnd", "").expect(t, "delete the space", 409, `space "bnd" is still in use: API key "kb" refers to it`)
	ts.admin(t, "DELETE", "/v1/api-keys/kb", "").expect(t, "delete the key", 204)
	ts.admin(t, "PUT", "/v1/stacks/in-bnd", `{"space":"bnd"}`).expect(t, "a stack in it", 201)
	ts.admin(t, "DELETE", "/v1/spaces/bnd", "").expect(t, "delete the space", 409, `space "bnd" is still in use: stack "in-bnd" refers to it`)
}

// TestIfMatchHeaderLines: If-Match sent on several lines is one list, an empty one is refused
// (it would otherwise drop the condition), list items may be empty or quote commas, and a
// deletion of what does not exist is 404 whatever If-Match says.
func TestIfMatchHeaderLines(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	ts.admin(t, "PUT", "/v1/roles/r", `{"actions":["run:read"]}`).expect(t, "role", 201)
	send := func(method, path, body string, lines ...string) adminAnswer {
		t.Helper()
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+rootAdminSecret)
		req.Header.Set("Content-Type", "application/json")
		for _, l := range lines {
			req.Header.Add("If-Match", l)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		ans := adminAnswer{code: resp.StatusCode, body: string(raw)}
		if resp.StatusCode >= 400 {
			assertEnvelope(t, resp.StatusCode, raw)
			_ = json.Unmarshal(raw, &ans.err)
		}
		return ans
	}
	role := `{"actions":["run:read","audit:read"]}`
	send("PUT", "/v1/roles/r", role, `"7"`, `"8"`).expect(t, "two lines, neither the version", 412, "none of those")
	send("PUT", "/v1/roles/r", role, `""`, `"7"`).expect(t, "an empty tag and a version on two lines", 412, "at version 1, not 7")
	send("PUT", "/v1/roles/r", role, "").expect(t, "an empty If-Match", 400, "If-Match is empty")
	send("PUT", "/v1/roles/r", role, " , ").expect(t, "a list of empty items", 400, "If-Match is empty")
	send("PUT", "/v1/roles/r", role, `"a,b"`).expect(t, "a tag quoting a comma", 412, "names no version")
	send("PUT", "/v1/roles/r", role, `"7", ,"9"`).expect(t, "a list with an empty item", 412, "none of those")
	send("PUT", "/v1/roles/r", role, `"7"`, `"1"`).expect(t, "the version on the second line", 200, `"version":2`)
	ts.admin(t, "PUT", "/v1/stacks/s1", `{"space":"team-a"}`).expect(t, "stack", 201)
	send("DELETE", "/v1/stacks/s1/attachments/none", "", `"1"`).expect(t, "delete a missing attachment with If-Match", 404)
	send("DELETE", "/v1/roles/gone", "", `"1"`).expect(t, "delete a missing role with If-Match", 404)
}
