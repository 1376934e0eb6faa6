package server

import (
	"fmt"
	"testing"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
)

// TestWithheldCredentialsAreNotCountedAsSuccess: credentials the upstream granted but broker
// then withheld (the run finished while they were exchanged: the worker gets 401, the trail
// records credentials.issue "denied") are not counted as
// broker_credentials_total{outcome="success"}: that series counts credentials handed out.
func TestWithheldCredentialsAreNotCountedAsSuccess(t *testing.T) {
	emu, late := startEmulator(t)
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - id: aws-write
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/w", sts_endpoint: %q}
attachments:
  - {stack: vpc-prod, integration: aws-write, write: true}
`, emu.URL)})
	sts := awsemu.New(awsemu.Config{Roles: []awsemu.Role{{ARN: "arn:aws:iam::123456789012:role/w",
		Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:vpc-prod:run_type:*:scope:write"}}}})
	entered, gate := holdUpstream(late, sts)
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for _, p := range []string{"PLANNING", "APPLYING"} {
		if code := ts.setPhase(t, run.Run.ID, p); code != 200 {
			t.Fatalf("move to %s: %d", p, code)
		}
	}
	done := credentialsLater(t, ts, run.RunToken, "aws")
	<-entered
	finishPath := "/v1/runs/" + run.Run.ID + "/finish"
	finish := apiRequest{method: "POST", path: finishPath, bearer: adminSecret}
	if code := ts.call(t, finish); code != 200 {
		t.Fatalf("finish during the exchange: %d", code)
	}
	close(gate)
	if res := <-done; res.code == 200 {
		t.Fatalf("credentials handed out to a run finished during the exchange")
	}
	samples := scrape(t, ts)
	got := value(t, samples, "broker_credentials_total", "provider", "aws", "outcome", "success")
	if got != 0 {
		t.Errorf("broker_credentials_total{aws,success} = %v after credentials were withheld "+
			"(answered non-200, audited as denied), want 0", got)
	}
}
