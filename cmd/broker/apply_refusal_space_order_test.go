package main

import "testing"

// TestApplyAfterARefusalMovesSpacesBeforeIntegrations: space sub's move into q is refused 409 in
// the main pass (p and p2 both autoattach aws read to net) until the file's p2 is put. Space s2
// (inherit, under p1, holding stack vpc, label db) is moved by the file to p2space; p1's vault
// integration w gains an autoattach write rule for db. Neither the broker before nor the file
// attaches vpc to w, nor does any step: s2 moves in the main pass, before w.
// Guards against: apply.go holding every space changed after a refused object back behind it
// (s2 held while w was put, vpc attached to w for write meanwhile).
func TestApplyAfterARefusalMovesSpacesBeforeIntegrations(t *testing.T) {
	b := startLive(t, liveFile(""))
	refusedSubMove(t, b)
	b.put(t, "/v1/spaces/p1", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/p2space", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/s2", `{"parent":"p1","inherit":true}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"s2","labels":["db"]}`)
	b.put(t, "/v1/integrations/w", `{"space":"p1","vault":{"address":"http://127.0.0.1:8200","role":"w"}}`)
	if got := vpcAttachedToW(t, b); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "spaces:\n  - {id: sub, parent: q, inherit: true}\n  - {id: s2, parent: p2space, inherit: true}\n" +
		"integrations:\n  - {id: p2, space: q, aws: {role_arn: \"arn:aws:iam::123456789012:role/p2\"}, autoattach: [{label: dns, read: true}]}\n" +
		"  - {id: w, space: p1, vault: {address: \"http://127.0.0.1:8200\", role: w}, autoattach: [{label: db, write: true}]}\n"
	seen, r := applyWatched(t, b, watchedApply{file: file, bad: func() string { return vpcAttachedToW(t, b) }})
	t.Logf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("apply failed")
	}
	for _, s := range seen {
		t.Errorf("mid-apply: %s", s)
	}
	if got := vpcAttachedToW(t, b); got != "" {
		t.Errorf("after apply: %s", got)
	}
}

// refusedSubMove sets b up for a file moving space sub (holding stack net1, label net) into q,
// where integrations p and p2 both autoattach aws read to net: the move is refused 409 in the
// apply's main pass until the file's p2, whose rule is for another label, is put.
func refusedSubMove(t *testing.T, b *liveBroker) {
	t.Helper()
	b.put(t, "/v1/spaces/q", `{"parent":"root"}`)
	b.put(t, "/v1/integrations/p", `{"space":"q","aws":{"roleArn":"arn:aws:iam::123456789012:role/p"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/integrations/p2", `{"space":"q","aws":{"roleArn":"arn:aws:iam::123456789012:role/p2"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/spaces/sub", `{"parent":"root","inherit":true}`)
	b.put(t, "/v1/stacks/net1", `{"space":"sub","labels":["net"]}`)
}
