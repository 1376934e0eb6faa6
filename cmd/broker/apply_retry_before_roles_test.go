package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// keyMayCreateVPCRuns tries, with the key secret, to start a run of stack vpc in its write
// phase, and reports it when the broker lets it (the run's token then gets vpc's write
// credentials).
func keyMayCreateVPCRuns(t *testing.T, b *liveBroker, secret string) string {
	req, _ := http.NewRequest(http.MethodPost, b.url+"/v1/runs",
		strings.NewReader(`{"stack":"vpc","runType":"TRACKED","phase":"APPLYING"}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusCreated {
		return "the runner key started a write-phase run of vpc: " + string(body)
	}
	return ""
}

// TestApplyRetriedMoveGoesBeforeTheWideningRole: the file moves space team (holding stack vpc)
// from other, where key runner is bound, to prod, and gives role runner run:create and
// run:update. Before the apply the key may only read vpc; after it, the key no longer covers
// vpc. The space's move is refused 409 in the first pass (vpc would hold two aws read
// attachments until the file's attachment change is put) and goes again after it; the widening
// role goes after that, so that at no step may the key start a write-phase run of vpc.
// Guards against: apply.go putting the objects refused for a conflict again only after the
// roles the file widens.
func TestApplyRetriedMoveGoesBeforeTheWideningRole(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/team", `{"parent":"other","inherit":true}`)
	b.put(t, "/v1/integrations/p", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/p"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/integrations/x", `{"space":"team","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":["net"]}`)
	b.put(t, "/v1/stacks/vpc/attachments/x", `{"read":true,"write":false}`)
	b.put(t, "/v1/roles/runner", `{"actions":["run:read"]}`)
	key := boundKey(t, b, "runner@other")
	if got := keyMayCreateVPCRuns(t, b, key); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "spaces:\n  - {id: team, parent: prod, inherit: true}\n" +
		"attachments:\n  - {stack: vpc, integration: x, read: false, write: true}\n" +
		"roles:\n  - {id: runner, actions: [run:read, run:create, run:update]}\n"
	seen, r := applyWatched(t, b, watchedApply{file: file, bad: func() string { return keyMayCreateVPCRuns(t, b, key) }})
	t.Logf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("apply failed")
	}
	for _, s := range seen {
		t.Errorf("mid-apply: %s", s)
	}
	if got := keyMayCreateVPCRuns(t, b, key); got != "" {
		t.Errorf("after apply: %s", got)
	}
}
