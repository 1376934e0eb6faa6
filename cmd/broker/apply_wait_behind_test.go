package main

import "testing"

// TestApplyHoldsGrantsBehindARetriedMove: an object refused for a conflict goes again once the
// objects after it are put, and nothing that may grant goes before it meanwhile: put while the
// refused move has not happened, it would grant where the moved object still is, which neither
// the broker before nor the file grants. An integration with no autoattach rule grants nothing
// by its move, so it goes on, and the refused move then succeeds.
// Guards against: apply.go's put going on with every later object while a move waits to go
// again at the end of the pass
func TestApplyHoldsGrantsBehindARetriedMove(t *testing.T) {
	t.Run("a label behind a space's move out", func(t *testing.T) {
		// team (inheriting) sits in prod, whose prod-w autoattaches net for write; vpc in team
		// has no label and a direct read attachment to x, in prod. The file moves team to
		// other, x to root and labels vpc net: team's move is refused until x has moved.
		b := startLive(t, liveFile(""))
		b.put(t, "/v1/spaces/prod", `{"parent":"root","inherit":true}`)
		b.put(t, "/v1/spaces/other", `{"parent":"root","inherit":true}`)
		b.put(t, "/v1/spaces/team", `{"parent":"prod","inherit":true}`)
		b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":[]}`)
		b.put(t, "/v1/integrations/prod-w", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"net","write":true}]}`)
		b.put(t, "/v1/integrations/x", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`)
		b.put(t, "/v1/stacks/vpc/attachments/x", `{"read":true,"write":false}`)
		bad := func() string { return vPCWrites(t, b) }
		if got := bad(); got != "" {
			t.Fatalf("set-up: %s", got)
		}
		file := "spaces:\n  - {id: team, parent: other, inherit: true}\n" +
			"stacks:\n  - {id: vpc, space: team, labels: [net]}\n" +
			"integrations:\n  - {id: x, space: root, aws: {role_arn: \"arn:aws:iam::123456789012:role/x\"}}\n"
		applyGrantsNothingMidway(t, b, file, bad)
	})
	t.Run("a space moved under a key behind a stack's move out", func(t *testing.T) {
		// vpc sits in team under other; runner is bound on prod. The file moves vpc to s, team
		// under prod and x (vpc's direct read attachment, in team) to root: vpc's move, put
		// first, is refused until x has moved.
		b := startLive(t, liveFile(""))
		b.put(t, "/v1/spaces/prod", `{"parent":"root","inherit":true}`)
		b.put(t, "/v1/spaces/other", `{"parent":"root","inherit":true}`)
		b.put(t, "/v1/spaces/s", `{"parent":"root","inherit":true}`)
		b.put(t, "/v1/spaces/team", `{"parent":"other","inherit":true}`)
		b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":[]}`)
		b.put(t, "/v1/integrations/x", `{"space":"team","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`)
		b.put(t, "/v1/stacks/vpc/attachments/x", `{"read":true,"write":false}`)
		b.put(t, "/v1/roles/runner", `{"actions":["run:create","run:update","run:read"]}`)
		key := boundKey(t, b, "runner@prod")
		bad := func() string { return keyMayCreateVPCRuns(t, b, key) }
		if got := bad(); got != "" {
			t.Fatalf("set-up: %s", got)
		}
		file := "spaces:\n  - {id: team, parent: prod, inherit: true}\n" +
			"stacks:\n  - {id: vpc, space: s, labels: []}\n" +
			"integrations:\n  - {id: x, space: root, aws: {role_arn: \"arn:aws:iam::123456789012:role/x\"}}\n"
		applyGrantsNothingMidway(t, b, file, bad)
	})
}

// TestApplyLeavesGrantsBehindAFailedMove: when a refused move fails for good, what may grant
// behind it is not applied (reported so, and the apply fails): applied, it would stay granting
// where the moved object still is, which neither the broker before nor the file grants.
// Guards against: apply.go's last pass putting every object still waiting, whatever failed
// before it
func TestApplyLeavesGrantsBehindAFailedMove(t *testing.T) {
	// team (inheriting) sits in prod, whose prod-w autoattaches net for write; the file moves
	// team to other (refused for good: vpc's direct attachment to x, in prod, is not usable from
	// other) and labels vpc net.
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/team", `{"parent":"prod","inherit":true}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":[]}`)
	b.put(t, "/v1/integrations/prod-w", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"net","write":true}]}`)
	b.put(t, "/v1/integrations/x", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`)
	b.put(t, "/v1/stacks/vpc/attachments/x", `{"read":true,"write":false}`)
	bad := func() string { return vPCWrites(t, b) }
	if got := bad(); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "spaces:\n  - {id: team, parent: other, inherit: true}\n" +
		"stacks:\n  - {id: vpc, space: team, labels: [net]}\n"
	applyFailsGrantingNothing(t, b, watchedApply{file: file, bad: bad})
}
