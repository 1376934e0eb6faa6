package main

import (
	"strings"
	"testing"
)

// TestApplyWidensNothingAfterAFailure: a role the file widens, and a space the file makes
// inherit, go after the objects that must leave their reach first; when one of those fails,
// they are not applied at all (and said so), so that the failed apply leaves no grant that
// neither the broker before it nor the file makes.
//
// Role: key runner is bound on space other to role runner {run:read}; space team (holding
// stack vpc) is under other. The file moves team to prod (refused 409 throughout: vpc would
// hold two aws read attachments in prod) and gives runner run:create and run:update. Neither
// end lets the key start a write-phase run of vpc.
//
// Inherit: space mid (not inheriting, under prod, whose prod-w attaches label net for write)
// holds space team (inheriting), which holds vpc (label net). The file moves team to other
// (refused: vpc's direct attachment to x, in mid, is not usable from other) and makes mid
// inherit. Neither end attaches vpc to prod-w for write.
// Guards against: apply.go:runApply putting the widening stages (stageAfterRetries, stageLast)
// after an earlier object failed.
func TestApplyWidensNothingAfterAFailure(t *testing.T) {
	cases := []struct {
		name, file, skipped string
		setUp               func(*testing.T, *liveBroker) (bad func() string)
	}{
		{name: "role widened after a failed space move", skipped: "role/runner",
			file: "spaces:\n  - {id: team, parent: prod, inherit: true}\n" +
				"roles:\n  - {id: runner, actions: [run:read, run:create, run:update]}\n",
			setUp: func(t *testing.T, b *liveBroker) func() string {
				b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
				b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
				b.put(t, "/v1/spaces/team", `{"parent":"other","inherit":true}`)
				b.put(t, "/v1/integrations/p", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/p"},"autoattach":[{"label":"net","read":true}]}`)
				b.put(t, "/v1/integrations/x", `{"space":"team","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`)
				b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":["net"]}`)
				b.put(t, "/v1/stacks/vpc/attachments/x", `{"read":true,"write":false}`)
				b.put(t, "/v1/roles/runner", `{"actions":["run:read"]}`)
				key := boundKey(t, b, "runner@other")
				return func() string { return keyMayCreateVPCRuns(t, b, key) }
			}},
		{name: "inherit turned on after a failed space move out", skipped: "space/mid",
			file: "spaces:\n  - {id: mid, parent: prod, inherit: true}\n" +
				"  - {id: team, parent: other, inherit: true}\n",
			setUp: func(t *testing.T, b *liveBroker) func() string {
				midSetUpMid(t, b)
				b.put(t, "/v1/integrations/x", `{"space":"mid","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`)
				b.put(t, "/v1/stacks/vpc/attachments/x", `{"read":true,"write":false}`)
				return func() string { return vPCWrites(t, b) }
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			bad := tc.setUp(t, b)
			if got := bad(); got != "" {
				t.Fatalf("set-up: %s", got)
			}
			r := applyFailsGrantingNothing(t, b, watchedApply{file: tc.file, bad: bad})
			if !strings.Contains(r.stdout, tc.skipped+" not applied") {
				t.Errorf("apply: want it to say %s was not applied:\n%s", tc.skipped, r.stdout)
			}
		})
	}
}
