package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// vpcReadsFrom reports stack vpc's read attachment to integration id, empty when none.
func vpcReadsFrom(t *testing.T, b *liveBroker, id string) string {
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
			Read                bool
		}
	}
	_ = json.Unmarshal(body, &l)
	for _, a := range l.Attachments {
		if a.Integration == id && a.Read {
			return "vpc is attached to " + id + " for read (" + a.Source + "): " + string(body)
		}
	}
	return ""
}

// TestApplyTakesAutoattachReadAwayFirst: the read an integration's autoattach rule gives a
// label the file drops goes before anything else, as its write does, so that a stack the file
// labels or moves meanwhile never reaches the integration's read runs. Integration i
// autoattaches read to label net; stack vpc (same space) carries label dns, so it is not
// attached to i. The file swaps them: i's rule moves to label dns, vpc's label to net. Neither
// before nor after the apply is vpc attached to i, and no step attaches it (a read-scope run of
// vpc, a PROPOSED plan, would take i's credentials).
// Guards against: applynarrow.go:dropsWrite taking only write away from an integration's rules,
// so the stack, put before the integration, carried net while i still attached net for read.
func TestApplyTakesAutoattachReadAwayFirst(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/integrations/i", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/i"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":["dns"]}`)
	if got := vpcReadsFrom(t, b, "i"); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "stacks:\n  - {id: vpc, space: prod, labels: [net]}\n" +
		"integrations:\n  - {id: i, space: prod, aws: {role_arn: \"arn:aws:iam::123456789012:role/i\"}, autoattach: [{label: dns, read: true}]}\n"
	applyGrantsNothingMidway(t, b, file, func() string { return vpcReadsFrom(t, b, "i") })
}
