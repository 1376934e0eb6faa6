package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// vpcAttachedToW reports, when stack vpc is attached to integration w (by w's autoattach rule,
// for write), the attachment; empty when it is not.
func vpcAttachedToW(t *testing.T, b *liveBroker) string {
	req, _ := http.NewRequest(http.MethodGet, b.url+"/v1/stacks/vpc/attachments", nil)
	req.Header.Set("Authorization", "Bearer "+liveAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var l struct {
		Attachments []struct {
			Integration, Source string
			Write               bool
		}
	}
	_ = json.Unmarshal(body, &l)
	for _, a := range l.Attachments {
		if a.Integration == "w" && a.Write {
			return "vpc is attached to w for write (" + a.Source + "): " + string(body)
		}
	}
	return ""
}

// TestApplyRetriedMoveGoesBeforeInheritTurnedOn: the sibling of
// TestApplyRetriedMoveGoesBeforeTheWideningRole for a space the file makes inherit. Space s
// (no inherit) under prod holds space team (inherit), which holds stack vpc (label net,
// attached directly to x for read). prod's vault integration w autoattaches write to label net,
// which vpc does not reach (s does not inherit). The file moves team to q (where p
// autoattaches aws read to net: refused 409, vpc holding x's aws read, until the file's p,
// whose rule is for another label, is put), and turns inherit on for s. Neither before nor
// after the apply is vpc attached to w; no step of the apply attaches it.
// Guards against: apply.go putting a space the file makes inherit before the objects put again
// after a conflict.
func TestApplyRetriedMoveGoesBeforeInheritTurnedOn(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/s", `{"parent":"prod"}`)
	b.put(t, "/v1/spaces/q", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/team", `{"parent":"s","inherit":true}`)
	b.put(t, "/v1/integrations/w", `{"space":"prod","vault":{"address":"http://127.0.0.1:8200","role":"w"},"autoattach":[{"label":"net","write":true}]}`)
	b.put(t, "/v1/integrations/p", `{"space":"q","aws":{"roleArn":"arn:aws:iam::123456789012:role/p"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/integrations/x", `{"space":"team","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":["net"]}`)
	b.put(t, "/v1/stacks/vpc/attachments/x", `{"read":true,"write":false}`)
	if got := vpcAttachedToW(t, b); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "spaces:\n  - {id: s, parent: prod, inherit: true}\n  - {id: team, parent: q, inherit: true}\n" +
		"integrations:\n  - {id: p, space: q, aws: {role_arn: \"arn:aws:iam::123456789012:role/p\"}, autoattach: [{label: dns, read: true}]}\n"
	applyGrantsNothingMidway(t, b, file, func() string { return vpcAttachedToW(t, b) })
}

// applyGrantsNothingMidway applies file to b, watching every step with bad, which describes a
// grant neither the broker before nor the file makes (empty for none): the apply succeeds, and
// bad stays empty at every step and after.
func applyGrantsNothingMidway(t *testing.T, b *liveBroker, file string, bad func() string) {
	t.Helper()
	seen, r := applyWatched(t, b, watchedApply{file: file, bad: bad})
	t.Logf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("apply failed")
	}
	for _, s := range seen {
		t.Errorf("mid-apply: %s", s)
	}
	if got := bad(); got != "" {
		t.Errorf("after apply: %s", got)
	}
}

// applyFailsGrantingNothing runs w, which must fail, and checks that w.bad said nothing before
// any of its PUTs nor after it: an apply that stops leaves nothing granted that neither the
// broker before it nor the file grants. It returns apply's result.
func applyFailsGrantingNothing(t *testing.T, b *liveBroker, w watchedApply) result {
	t.Helper()
	seen, r := applyWatched(t, b, w)
	t.Logf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	if r.code == 0 {
		t.Error("the apply succeeded; want it to fail")
	}
	for _, s := range seen {
		t.Errorf("mid-apply: %s", s)
	}
	if got := w.bad(); got != "" {
		t.Errorf("after the apply (exit %d): %s", r.code, got)
	}
	return r
}
