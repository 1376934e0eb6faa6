package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestApplyHoldsAnIdentityChangeBehindAMove: an integration without autoattach rules whose put
// changes its cloud identity (a role ARN) may grant: it changes what its direct attachments give.
// So it waits behind a stack's move out of a key's reach that was refused for a conflict: put
// before it, the key could start a write run of the stack that gets the new role, which neither
// the broker before (the old role) nor the file (the stack out of the key's reach) grants. An
// integration that only moves goes on, and the stack's move then succeeds.
// Guards against: applyhold.go:mayGrant counting every integration without autoattach rules as
// granting nothing
func TestApplyHoldsAnIdentityChangeBehindAMove(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root","inherit":true}`)
	b.put(t, "/v1/spaces/s", `{"parent":"root","inherit":true}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":[]}`)
	b.put(t, "/v1/integrations/x", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`)
	b.put(t, "/v1/integrations/y", `{"space":"root","aws":{"roleArn":"arn:aws:iam::123456789012:role/A"}}`)
	b.put(t, "/v1/stacks/vpc/attachments/x", `{"read":true,"write":false}`)
	b.put(t, "/v1/stacks/vpc/attachments/y", `{"read":false,"write":true}`)
	b.put(t, "/v1/roles/runner", `{"actions":["run:create","run:update","run:read"]}`)
	key := boundKey(t, b, "runner@prod")
	yArn := func() string {
		req, _ := http.NewRequest(http.MethodGet, b.url+"/v1/integrations/y", nil)
		req.Header.Set("Authorization", "Bearer "+liveAdmin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	bad := func() string {
		if !strings.Contains(yArn(), "role/B") {
			return ""
		}
		if got := keyMayCreateVPCRuns(t, b, key); got != "" {
			return "y holds role B and " + got
		}
		return ""
	}
	if got := bad(); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "stacks:\n  - {id: vpc, space: s, labels: []}\n" +
		"integrations:\n  - {id: x, space: root, aws: {role_arn: \"arn:aws:iam::123456789012:role/x\"}}\n" +
		"  - {id: y, space: root, aws: {role_arn: \"arn:aws:iam::123456789012:role/B\"}}\n"
	applyGrantsNothingMidway(t, b, file, bad)
}

// TestApplyLeavesGrantsBehindAForbiddenMove: a move refused for good with anything but a conflict
// (403 here: the key may not administer the target space) holds back what may grant after it in
// the same pass, as a move refused in the last pass does: it is not applied, and the apply fails.
// Guards against: apply.go's put checking failed moves in the last pass only
func TestApplyLeavesGrantsBehindAForbiddenMove(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/team", `{"parent":"prod","inherit":true}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":[]}`)
	b.put(t, "/v1/integrations/prod-w", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"net","write":true}]}`)
	r := b.cli(t, liveAdmin, "api-keys", "create", "--id", "team-admin", "--bind", "admin@prod", "--bind", "reader@root", "-o", "json")
	var k struct{ Secret string }
	if err := json.Unmarshal([]byte(r.stdout), &k); err != nil || k.Secret == "" {
		t.Fatalf("api-keys create: %+v", r)
	}
	bad := func() string { return vPCWrites(t, b) }
	if got := bad(); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "spaces:\n  - {id: team, parent: other, inherit: true}\n" +
		"stacks:\n  - {id: vpc, space: team, labels: [net]}\n"
	applyFailsGrantingNothing(t, b, watchedApply{file: file, key: k.Secret, bad: bad})
}
