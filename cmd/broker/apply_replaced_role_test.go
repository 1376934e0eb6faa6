package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// vpcHoldsWrite reports whether stack vpc holds any attachment for write.
func vpcHoldsWrite(t *testing.T, b *liveBroker) bool {
	req, _ := http.NewRequest(http.MethodGet, b.url+"/v1/stacks/vpc/attachments", nil)
	req.Header.Set("Authorization", "Bearer "+liveAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var l struct{ Attachments []struct{ Write bool } }
	_ = json.Unmarshal(body, &l)
	for _, a := range l.Attachments {
		if a.Write {
			return true
		}
	}
	return false
}

// TestApplyRefusesAReplacedRoleBesideAnAddition: a role keeps at least one action, so a role
// whose every action the file replaces cannot be narrowed first, and its old actions hold until
// it is put; a file that does that and also adds anything (here a write attachment) has no safe
// order, and the apply refuses it before changing anything. Key runner is bound on prod to role
// runner {run:create, run:update}; stack vpc in prod holds no write attachment. The file
// replaces the role's actions with [run:read] and attaches vpc to w for write: neither end lets
// the key start a run of vpc while vpc is attached for write, and no step does.
// Guards against: applynarrow.go:narrowingFirst refusing a replaced role only when the file also
// moved a space or stack, and putting it last, after the write attachment.
func TestApplyRefusesAReplacedRoleBesideAnAddition(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":[]}`)
	b.put(t, "/v1/integrations/w", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"}}`)
	b.put(t, "/v1/roles/runner", `{"actions":["run:create","run:update"]}`)
	key := boundKey(t, b, "runner@prod")
	bad := func() string {
		if vpcHoldsWrite(t, b) && midStartsRun(t, b, key) {
			return "the runner key started a TRACKED run of vpc while vpc is attached to w for write"
		}
		return ""
	}
	if got := bad(); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "roles:\n  - {id: runner, actions: [run:read]}\n" +
		"attachments:\n  - {stack: vpc, integration: w, read: false, write: true}\n"
	n := b.writeCount()
	r := applyFailsGrantingNothing(t, b, watchedApply{file: file, bad: bad})
	if !strings.Contains(r.stderr, "role/runner") || !strings.Contains(r.stderr, "attachment/vpc/w") ||
		!strings.Contains(r.stderr, "apply the role in a file of its own") {
		t.Errorf("apply: exit %d, stderr %q; want it refused, naming role/runner and attachment/vpc/w", r.code, r.stderr)
	}
	for _, w := range b.writesSince(n) {
		if !strings.HasPrefix(w, "POST /v1/runs ") { // the runs bad tries to start
			t.Errorf("the refused apply changed the broker: %s", w)
		}
	}
}

// TestApplyTakesAReplacedRoleWithUnchangedObjects: a file that replaces every action of a role
// and holds other objects only as the broker holds them (a whole configuration kept in a
// repository, say) adds nothing beside the role, and the apply puts the role.
func TestApplyTakesAReplacedRoleWithUnchangedObjects(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":["net"]}`)
	b.put(t, "/v1/roles/runner", `{"actions":["run:create","run:update"]}`)
	file := "roles:\n  - {id: runner, actions: [run:read]}\n" +
		"spaces:\n  - {id: prod, parent: root}\n" +
		"stacks:\n  - {id: vpc, space: prod, labels: [net]}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "file.yaml", file))
	if r.code != 0 || !strings.Contains(r.stdout, "role/runner changed") {
		t.Errorf("apply replacing a role beside unchanged objects: %+v", r)
	}
}
