package main

import "testing"

// TestApplyRetriedSpaceMoveGoesBeforeItsParentMovesUnderWrite: the sibling of
// TestApplyRetriedMoveGoesBeforeInheritTurnedOn for a space the file moves (rather than makes
// inherit). Space team (inherit) under a holds space sub (inherit), which holds stack vpc
// (label net). prod's vault integration w autoattaches write to net. The file moves team under
// prod and sub out of team to q, where p and p2 both autoattach aws read to net: sub's move is
// refused 409 until the file's p2 (for another label) is put. Neither before nor after the
// apply is vpc attached to w, nor at any step: team's move waits for sub's, put again.
// Guards against: apply.go putting a space in the main pass after an object refused for a
// conflict (sub's move out of it) while that object waits to go again.
func TestApplyRetriedSpaceMoveGoesBeforeItsParentMovesUnderWrite(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/a", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/q", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/team", `{"parent":"a","inherit":true}`)
	b.put(t, "/v1/integrations/w", `{"space":"prod","vault":{"address":"http://127.0.0.1:8200","role":"w"},"autoattach":[{"label":"net","write":true}]}`)
	b.put(t, "/v1/integrations/p", `{"space":"q","aws":{"roleArn":"arn:aws:iam::123456789012:role/p"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/integrations/p2", `{"space":"q","aws":{"roleArn":"arn:aws:iam::123456789012:role/p2"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/spaces/sub", `{"parent":"team","inherit":true}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"sub","labels":["net"]}`)
	if got := vpcAttachedToW(t, b); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "spaces:\n  - {id: team, parent: prod, inherit: true}\n  - {id: sub, parent: q, inherit: true}\n" +
		"integrations:\n  - {id: p2, space: q, aws: {role_arn: \"arn:aws:iam::123456789012:role/p2\"}, autoattach: [{label: dns, read: true}]}\n"
	applyGrantsNothingMidway(t, b, file, func() string { return vpcAttachedToW(t, b) })
}
