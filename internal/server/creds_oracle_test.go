package server

import (
	"strings"
	"testing"
)

// TestCredentialsHideOtherStacksIntegrations: a run naming an integration its stack does not
// use (another space's, of any provider) gets the answer of one that does not exist, 404 with
// the same message, so that a run cannot list other spaces' integrations or their providers;
// the attempt is in the trail of the integration's space, for its owners, and not in the
// run's, where the run's team would read the integration's provider and attachments. Naming
// its own stack's integration of the other scope stays 403.
func TestCredentialsHideOtherStacksIntegrations(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: manyFailures + `
integrations:
  - {id: aws-read, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-read", sts_endpoint: "http://127.0.0.1:9"}}
  - {id: aws-write, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-write", sts_endpoint: "http://127.0.0.1:9"}}
attachments:
  - {stack: vpc-prod, integration: aws-read, read: true}
  - {stack: vpc-prod, integration: aws-write, write: true}
`})
	var dev runAnswer
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: limitedSecret,
		body: map[string]string{"stack": "app-dev", "runType": "PROPOSED"}, out: &dev}); code != 201 {
		t.Fatalf("dev run: %d", code)
	}
	answer := func(provider, integration string) (int, string) {
		_, code, env := ts.credentials(t, dev.RunToken, provider, integration)
		return code, strings.ReplaceAll(env.Error.Message, integration, "NAME")
	}
	for _, provider := range []string{"aws", "gcp"} {
		noneCode, noneMsg := answer(provider, "no-such-integration")
		prodCode, prodMsg := answer(provider, "aws-write")
		if noneCode != 404 || prodCode != noneCode || prodMsg != noneMsg {
			t.Errorf("as %s: prod's aws-write answers %d %q, a missing one %d %q; want both 404 alike", provider, prodCode, prodMsg, noneCode, noneMsg)
		}
	}
	denied := func(space string) int {
		n := 0
		for _, e := range auditEvents(t, ts, space, 100) {
			if e.Action == "credentials.issue" && e.Outcome == "denied" && e.Integration == "aws-write" {
				n++
			}
		}
		return n
	}
	if n := denied("prod"); n != 2 {
		t.Errorf("the dev run naming prod's integration left %d denied events in prod, want 2", n)
	}
	if n := denied("dev"); n != 0 {
		t.Errorf("the dev run naming prod's integration left %d denied events in dev, want none", n)
	}

	own := ts.createRun(t, "vpc-prod", "TRACKED") // a read phase
	if _, code, _ := ts.credentials(t, own.RunToken, "aws", "aws-write"); code != 403 {
		t.Errorf("its own stack's write integration in a read phase: %d, want 403", code)
	}
}
