package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// readReachesWriteRole reports, when an integration attached to stack vpc for read (so that a
// read-scope run, a PROPOSED plan included, gets its credentials) assumes the write role, which
// attachment and integration do so; empty when none does.
func readReachesWriteRole(t *testing.T, b *liveBroker) string {
	get := func(path string) map[string]json.RawMessage {
		req, _ := http.NewRequest(http.MethodGet, b.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+liveAdmin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var m map[string]json.RawMessage
		_ = json.Unmarshal(body, &m)
		return m
	}
	var ats []struct {
		Integration string
		Read        bool
	}
	_ = json.Unmarshal(get("/v1/stacks/vpc/attachments")["attachments"], &ats)
	for _, a := range ats {
		if !a.Read {
			continue
		}
		in := string(get("/v1/integrations/" + a.Integration)["integration"])
		if strings.Contains(in, "role/w") {
			return "vpc attached for read to " + a.Integration + ", which assumes role/w: " + in
		}
	}
	return ""
}

// TestApplyTakesReadAwayBeforeChangingTheIntegration: before the apply, read-scope runs of vpc
// get role/r (integration a, attached for read); the file makes a assume role/w and attaches it
// for write only, so after the apply read-scope runs of vpc get nothing. No step of the apply
// may let a read-scope run of vpc (a PROPOSED plan among them) reach role/w: the read the file
// drops is taken away before the integration changes.
// Guards against: applynarrow.go narrowing a direct attachment's write only, never its read.
func TestApplyTakesReadAwayBeforeChangingTheIntegration(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":[]}`)
	b.put(t, "/v1/integrations/a", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/r"}}`)
	b.put(t, "/v1/stacks/vpc/attachments/a", `{"read":true,"write":false}`)
	if got := readReachesWriteRole(t, b); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "integrations:\n  - {id: a, space: prod, aws: {role_arn: \"arn:aws:iam::123456789012:role/w\"}}\n" +
		"attachments:\n  - {stack: vpc, integration: a, read: false, write: true}\n"
	seen, r := applyWatched(t, b, watchedApply{file: file, bad: func() string { return readReachesWriteRole(t, b) }})
	if r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	for _, s := range seen {
		t.Errorf("a read-scope run of vpc could reach the write role mid-apply: %s", s)
	}
	if got := readReachesWriteRole(t, b); got != "" {
		t.Errorf("after apply: %s", got)
	}
}
