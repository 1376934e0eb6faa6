package server

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/emulator"
)

// A new subject template on a space whose stacks hold an attachment for write directs
// write-scope tokens: the trust policies installed in the clouds name the subs the old template
// made. A key holding only space:admin is refused (403), and a pull request's read-scope token
// stays refused by the write role; a key with the run rights there may change it. On the old
// code the space:admin key's change was 200, and a PROPOSED run's token, its sub now
// "repo:v:run:read:write", assumed the write role through the installed pattern
// "repo:v:run:*:write".
// The keys of templateTrustSetup: leaf holds space:admin on team-a, pr run:create and run:read.
const (
	leafSecret = "leaf-space-admin-secret"
	prSecret   = "pr-orchestrator-secret"
)

// templateTrustSetup starts a server where the organisation (root admin, run rights) has set up
// space c under team-a with the template "repo:{callerId}:run:{runId}:{scope}", its stack v
// attached for write to the AWS integration deploy, and installed in the STS emulator what
// `broker trust aws --stack v --scope write` printed then (the pattern "repo:v:run:*:write").
// It returns the server, a call of AssumeRoleWithWebIdentity on deploy-write with a token
// (status and body), and a start of a PROPOSED run of v by pr (its run token).
func templateTrustSetup(t *testing.T) (*testServer, func(token string) (int, string), func() string) {
	t.Helper()
	emu, late := startEmulator(t)
	cfg := strings.NewReplacer(
		"roles:\n", "roles:\n  - {id: sa, actions: [space:admin]}\n  - {id: pr, actions: [run:create, run:read]}\n",
		"api_keys:\n", "api_keys:\n"+
			"  - {id: leaf, secret_sha256: "+sha256Hex(leafSecret)+", bindings: [{role: sa, space: team-a}]}\n"+
			"  - {id: pr, secret_sha256: "+sha256Hex(prSecret)+", bindings: [{role: pr, space: team-a}]}\n",
	).Replace(adminConfig)
	ts := startServer(t, serverOptions{baseYAML: cfg, extraYAML: fmt.Sprintf(`
integrations:
  - {id: deploy, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/deploy-write", sts_endpoint: %q}}
`, emu.URL)})

	// The organisation (root admin, run rights) sets up space c with its own template, a stack
	// in it, and attaches the stack for write.
	ts.admin(t, "PUT", "/v1/spaces/c", `{"parent":"team-a","inherit":true,"subjectTemplate":"repo:{callerId}:run:{runId}:{scope}"}`).expect(t, "space c", 201)
	ts.admin(t, "PUT", "/v1/stacks/v", `{"space":"c"}`).expect(t, "stack v", 201)
	ts.admin(t, "PUT", "/v1/stacks/v/attachments/deploy", `{"write":true}`).expect(t, "attach v for write", 201)

	// The cloud admin installs what `broker trust aws --stack v --scope write` prints now.
	live := *ts.srv.cfg
	o := ts.srv.catalog.Live().Load().Objects()
	live.Spaces, live.Stacks, live.Integrations, live.Attachments = o.Spaces, o.Stacks, o.Integrations, o.Attachments
	set, err := emulator.FromConfig(&live, "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	late.set(set.AWS)

	assume := func(token string) (int, string) {
		form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"},
			"RoleArn": {"arn:aws:iam::123456789012:role/deploy-write"}, "RoleSessionName": {"pr"}, "WebIdentityToken": {token}}
		resp, err := http.Post(emu.URL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	prRun := func() string {
		var ans runAnswer
		if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: prSecret,
			body: map[string]string{"stack": "v", "runType": "PROPOSED"}, out: &ans}); code != 201 {
			t.Fatalf("PROPOSED run: %d", code)
		}
		return ans.RunToken
	}
	return ts, assume, prRun
}

func TestTemplateChangeOverWriteAttachmentsTakesRunRights(t *testing.T) {
	ts, assume, prRun := templateTrustSetup(t)

	// Before: a pull request's token is refused by the write role.
	tok, code := ts.mint(t, prRun(), "sts.amazonaws.com")
	if code != 200 {
		t.Fatalf("mint: %d", code)
	}
	if code, _ := assume(tok.Token); code == 200 {
		t.Fatal("setup: a PROPOSED run already assumes the write role")
	}

	// The space:admin-only key rewrites c's template: refused.
	var refusal envelope
	code = ts.call(t, apiRequest{method: "PUT", path: "/v1/spaces/c", bearer: leafSecret,
		body: `{"parent":"team-a","inherit":true,"subjectTemplate":"repo:{callerId}:run:{scope}:write"}`, out: &refusal})
	if code != 403 || !strings.Contains(refusal.Error.Message, "may not direct write-scope tokens") {
		t.Fatalf("a space:admin-only key changing the template of a space attached for write: %d %q, want 403", code, refusal.Error.Message)
	}
	tok, code = ts.mint(t, prRun(), "sts.amazonaws.com")
	if code != 200 {
		t.Fatalf("mint after: %d", code)
	}
	if code, body := assume(tok.Token); code == 200 {
		t.Errorf("a PROPOSED run's read-scope token assumed the write role deploy-write (%s)", firstLine(body))
	}
	// The root admin, holding the run rights, may.
	ts.admin(t, "PUT", "/v1/spaces/c", `{"parent":"team-a","inherit":true,"subjectTemplate":"repo:{callerId}:run:{runId}:{scope}:v2"}`).expect(t, "template by a key with the run rights", 200)
}

func firstLine(s string) string {
	if i := strings.Index(s, "<Credentials>"); i >= 0 {
		return s[i:min(len(s), i+120)]
	}
	return s[:min(len(s), 200)]
}

// TestTemplateChangeTakesRunRightsWithoutWriteAttachments: the trust policies installed in the
// clouds outlive the write attachment they were printed for, so a key holding only
// space:admin may not change which tokens carry a stack's subs by first dropping that
// attachment: neither rewrite the template of the stack's space once it is attached for read
// only, nor move the stack into a space of another template, nor create a space with a
// template of its own. A pull request's token stays refused by the write role. On the old code
// each step was 200 or 201, and a PROPOSED run got deploy-write's credentials.
func TestTemplateChangeTakesRunRightsWithoutWriteAttachments(t *testing.T) {
	ts, assume, prRun := templateTrustSetup(t)
	leaf := func(method, path, body string) int {
		return ts.call(t, apiRequest{method: method, path: path, bearer: leafSecret, body: body})
	}
	// Narrowing v's attachment of deploy-write to read lets read tokens reach that role, which
	// takes the run rights (TestReadAttachmentOfAWriteRoleTakesRunRights): the organisation
	// narrows it, and the steps below are the space:admin key's.
	if code := leaf("PUT", "/v1/stacks/v/attachments/deploy", `{"read":true}`); code != 403 {
		t.Errorf("leaf narrowing v's attachment of the write role to read: %d, want 403", code)
	}
	ts.admin(t, "PUT", "/v1/stacks/v/attachments/deploy", `{"read":true}`).expect(t, "the organisation narrowing v's attachment to read", 200)
	for _, step := range []struct {
		what, method, path, body string
	}{
		{"rewriting c's template", "PUT", "/v1/spaces/c", `{"parent":"team-a","inherit":true,"subjectTemplate":"repo:{callerId}:run:{scope}:write"}`},
		{"removing c's template", "PUT", "/v1/spaces/c", `{"parent":"team-a","inherit":true}`},
		{"creating a space with a template of its own", "PUT", "/v1/spaces/c2", `{"parent":"team-a","inherit":true,"subjectTemplate":"repo:{callerId}:run:{scope}:write:c2"}`},
	} {
		if code := leaf(step.method, step.path, step.body); code != 403 {
			t.Errorf("leaf %s: %d, want 403", step.what, code)
		}
	}
	if code := leaf("PUT", "/v1/spaces/d", `{"parent":"team-a","inherit":true}`); code != 201 {
		t.Fatalf("leaf creating a space with the default template: %d, want 201", code)
	}
	if code := leaf("PUT", "/v1/stacks/v", `{"space":"d"}`); code != 403 {
		t.Errorf("leaf moving v into a space of another template: %d, want 403", code)
	}
	tok, code := ts.mint(t, prRun(), "sts.amazonaws.com")
	if code != 200 {
		t.Fatalf("mint: %d", code)
	}
	if code, body := assume(tok.Token); code == 200 {
		t.Errorf("a PROPOSED run's read-scope token assumed the write role deploy-write (%s)", firstLine(body))
	}
	// The root admin, holding the run rights, may do each.
	ts.admin(t, "PUT", "/v1/spaces/c2", `{"parent":"team-a","inherit":true,"subjectTemplate":"repo:{callerId}:run:{runId}:{scope}:c2"}`).expect(t, "a space with a template, by a key with the run rights", 201)
	ts.admin(t, "PUT", "/v1/stacks/v", `{"space":"d"}`).expect(t, "a move into another template, by a key with the run rights", 200)
}

// TestTemplateSpaceDeleteTakesRunRights: deleting a space with a template of its own takes the
// run rights there. Its template leaves the catalog, and with it the check that keeps other
// spaces' templates from making the subs of the trust policies installed for it: a space of
// another team could then take its stacks' write subs. A key holding only space:admin may
// still empty the space, but not delete it; a key with the run rights may.
func TestTemplateSpaceDeleteTakesRunRights(t *testing.T) {
	ts, _, _ := templateTrustSetup(t)
	leaf := func(method, path string) int {
		return ts.call(t, apiRequest{method: method, path: path, bearer: leafSecret})
	}
	for _, path := range []string{"/v1/stacks/v/attachments/deploy", "/v1/stacks/v"} {
		if code := leaf("DELETE", path); code != 204 {
			t.Fatalf("leaf DELETE %s: %d, want 204", path, code)
		}
	}
	if code := leaf("DELETE", "/v1/spaces/c"); code != 403 {
		t.Errorf("leaf deleting space c and its template: %d, want 403", code)
	}
	ts.admin(t, "DELETE", "/v1/spaces/c", "").expect(t, "space c, by a key with the run rights", 204)
}

// TestHeldTemplateTakesNoWriteSubs: a template that left the catalog (its space took another,
// by a key holding the run rights there) still names the subs of the trust policies installed
// for it. Another team's admin, holding every right on team-b only, may not give a space of
// its own a template whose stack s renders "repo:v:run:s:write", which the pattern installed
// for v (repo:v:run:*:write) matches: 400, and the refusal quotes neither template. On the old
// code the space was created (201), and a write run of s would have assumed deploy-write. The
// same template as the one that left, which names its stacks' own ids, is given.
func TestHeldTemplateTakesNoWriteSubs(t *testing.T) {
	ts, _, _ := templateTrustSetup(t)
	ts.admin(t, "PUT", "/v1/spaces/c", `{"parent":"team-a","inherit":true,"subjectTemplate":"repo:{callerId}:run:{runId}:{scope}:v2"}`).expect(t, "c's new template, by a key with the run rights", 200)

	var refusal envelope
	code := ts.call(t, apiRequest{method: "PUT", path: "/v1/spaces/e", bearer: siblingSecret,
		body: `{"parent":"team-b","inherit":true,"subjectTemplate":"repo:v:run:{callerId}:{scope}"}`, out: &refusal})
	if code != 400 || refusal.Error.Code != "invalid_request" || !strings.Contains(refusal.Error.Message, "one a space holds or held") {
		t.Fatalf("team-b's admin giving a space a template that overlaps c's old one: %d %q, want 400", code, refusal.Error.Message)
	}
	if strings.Contains(refusal.Error.Message, "repo:{callerId}:run:{runId}:{scope}") {
		t.Errorf("the refusal quotes the template c held: %q", refusal.Error.Message)
	}
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/spaces/e", bearer: siblingSecret,
		body: `{"parent":"team-b","inherit":true,"subjectTemplate":"repo:{callerId}:run:{runId}:{scope}"}`}); code != 201 {
		t.Errorf("team-b's admin giving a space c's old template itself: %d, want 201", code)
	}
}

// TestReadAttachmentOfAWriteRoleTakesRunRights: a cloud role's trust, as `broker trust` prints
// it, lists every pair whose integration names that role, so a read attachment of an
// integration naming a role that stacks are attached to for write lets read tokens (a pull
// request's among them) into that role once the printed trust is installed again. A key
// holding only space:admin is refused (403, naming no space): attaching for read an integration
// of its own naming deploy-write, or the integration deploy itself, or labelling a stack so that
// such an integration's autoattach rule attaches it for read. On the old code each was 2xx, and
// after the cloud admin re-installed what `broker trust aws --stack v --scope write` printed, a
// PROPOSED run of v got deploy-write's credentials. The organisation's key, holding the run
// rights, may.
func TestReadAttachmentOfAWriteRoleTakesRunRights(t *testing.T) {
	ts, _, _ := templateTrustSetup(t)
	leaf := func(method, path, body string) (int, string) {
		var out envelope
		code := ts.call(t, apiRequest{method: method, path: path, bearer: leafSecret, body: body, out: &out})
		return code, out.Error.Message
	}
	if code, msg := leaf("PUT", "/v1/integrations/evil", `{"space":"c","aws":{"roleArn":"arn:aws:iam::123456789012:role/deploy-write"}}`); code != 201 {
		t.Fatalf("leaf creating an integration naming deploy-write, attached nowhere: %d %s", code, msg)
	}
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/stacks/w", bearer: rootAdminSecret, body: `{"space":"c"}`}); code != 201 {
		t.Fatalf("stack w: %d", code)
	}
	// An autoattach rule for read attaches nothing yet: the stacks it would bring are checked.
	if code, msg := leaf("PUT", "/v1/integrations/evil", `{"space":"c","aws":{"roleArn":"arn:aws:iam::123456789012:role/deploy-write"},"autoattach":[{"label":"x","read":true}]}`); code != 200 {
		t.Fatalf("leaf giving its integration an autoattach rule for read, matching no stack: %d %s", code, msg)
	}
	for _, step := range []struct{ what, path, body string }{
		{"attaching its integration naming deploy-write for read to v", "/v1/stacks/v/attachments/evil", `{"read":true}`},
		{"attaching deploy itself for read to another stack", "/v1/stacks/w/attachments/deploy", `{"read":true}`},
		{"labelling a stack under its integration's autoattach rule for read", "/v1/stacks/w", `{"space":"c","labels":["x"]}`},
		{"creating a stack under that rule", "/v1/stacks/w2", `{"space":"c","labels":["x"]}`},
	} {
		code, msg := leaf("PUT", step.path, step.body)
		if code != 403 || !strings.Contains(msg, "may not let read-scope tokens reach a cloud identity") {
			t.Errorf("leaf %s: %d %q, want 403", step.what, code, msg)
		}
		if strings.Contains(msg, `"prod"`) || strings.Contains(msg, `"c"`) {
			t.Errorf("leaf %s: the refusal names a space: %q", step.what, msg)
		}
	}
	// An integration naming another role may be attached for read as before.
	if code, msg := leaf("PUT", "/v1/integrations/reader", `{"space":"c","aws":{"roleArn":"arn:aws:iam::123456789012:role/reader"}}`); code != 201 {
		t.Fatalf("leaf creating an integration naming another role: %d %s", code, msg)
	}
	if code, msg := leaf("PUT", "/v1/stacks/v/attachments/reader", `{"read":true}`); code != 201 {
		t.Errorf("leaf attaching for read an integration of a role no stack writes with: %d %s", code, msg)
	}
	ts.admin(t, "PUT", "/v1/stacks/w/attachments/deploy", `{"read":true}`).expect(t, "the organisation attaching deploy for read", 201)
}

// TestStackBroughtUnderAReadRuleOfAWriteRoleTakesRunRights: whichever change brings a read pair
// to a cloud identity that stacks are attached to for write takes the run rights where they
// are, not only an attachment or an integration PUT. A space:admin key gives its integration
// naming deploy-write an autoattach rule for read while nothing writes with that role, the
// organisation attaches v for write again, and the key then labels or creates a stack under the
// rule: 403. On the old code the label and the create were 2xx, and once the printed write
// trust was installed again a PROPOSED run of the labelled stack assumed deploy-write.
func TestStackBroughtUnderAReadRuleOfAWriteRoleTakesRunRights(t *testing.T) {
	ts, _, _ := templateTrustSetup(t)
	leaf := func(method, path, body string) int {
		return ts.call(t, apiRequest{method: method, path: path, bearer: leafSecret, body: body})
	}
	ts.admin(t, "PUT", "/v1/stacks/w", `{"space":"c"}`).expect(t, "stack w", 201)
	if code := leaf("DELETE", "/v1/stacks/v/attachments/deploy", ""); code != 204 {
		t.Fatalf("leaf dropping v's write attachment: %d", code)
	}
	if code := leaf("PUT", "/v1/integrations/evil", `{"space":"c","aws":{"roleArn":"arn:aws:iam::123456789012:role/deploy-write"},"autoattach":[{"label":"x","read":true}]}`); code != 201 {
		t.Fatalf("leaf creating an integration with a read rule while nothing writes with its role: %d", code)
	}
	ts.admin(t, "PUT", "/v1/stacks/v/attachments/deploy", `{"write":true}`).expect(t, "the organisation attaching v for write again", 201)
	if code := leaf("PUT", "/v1/stacks/w", `{"space":"c","labels":["x"]}`); code != 403 {
		t.Errorf("leaf labelling w under the read rule of deploy-write's integration: %d, want 403", code)
	}
	if code := leaf("PUT", "/v1/stacks/u", `{"space":"c","labels":["x"]}`); code != 403 {
		t.Errorf("leaf creating a stack under that rule: %d, want 403", code)
	}
	ts.admin(t, "PUT", "/v1/stacks/w", `{"space":"c","labels":["x"]}`).expect(t, "the organisation labelling w", 200)
}
