package server

import (
	"strings"
	"testing"
	"time"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestIntegrationRepointedOnAnotherReplicaDuringTheExchange checks that credentials are handed
// out only for the integration as it is in force when they are: replica B re-points integration
// repointed from a broad role to a narrow one while replica A's exchange through the broad role
// is in flight, and once A has the change in force it withholds the broad role's credentials,
// as it does when the attachment itself is swapped.
func TestIntegrationRepointedOnAnotherReplicaDuringTheExchange(t *testing.T) {
	redis := redistest.Start(t)
	emu, late := startEmulator(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig,
		extraYAML: manyFailures}
	rs := startReplicas(t, 2, opts)
	a, b := rs[0], rs[1]
	const broad, narrow = "arn:aws:iam::123456789012:role/broad",
		"arn:aws:iam::123456789012:role/narrow"
	mustPut(t, a, "/v1/stacks/repointed-stack", `{"space":"prod"}`)
	mustPut(t, a, "/v1/integrations/repointed", `{"space":"prod","aws":{"roleArn":"`+broad+
		`","stsEndpoint":"`+emu.URL+`"}}`)
	mustPut(t, a, "/v1/stacks/repointed-stack/attachments/repointed", `{"read":true}`)
	trust := awsemu.Trust{Issuer: a.URL, Audiences: []string{"sts.amazonaws.com"},
		Subject: "space:prod:stack:repointed-stack:run_type:*:scope:read"}
	sts := awsemu.New(awsemu.Config{Roles: []awsemu.Role{
		{ARN: broad, Trust: trust}, {ARN: narrow, Trust: trust},
	}})
	entered, gate := holdUpstream(late, sts)
	run := a.createRun(t, "repointed-stack", "TRACKED")
	done := credentialsLater(t, a, run.RunToken, "aws")
	<-entered
	mustPut(t, b, "/v1/integrations/repointed", `{"space":"prod","aws":{"roleArn":"`+narrow+
		`","stsEndpoint":"`+emu.URL+`"}}`)
	start := time.Now()
	within(t, start, "the re-pointed integration is in force on A", func() bool {
		return listsRole(t, a, narrow)
	})
	close(gate)
	res := <-done
	if res.code == 200 {
		t.Errorf("A handed out credentials of %s after B re-pointed the integration to %s "+
			"and A had it in force: %d integration=%q",
			broad, narrow, res.code, res.ans.Integration)
	}
}

// mustPut PUTs body at path on ts and fails unless it is created or replaced.
func mustPut(t *testing.T, ts *testServer, path, body string) {
	t.Helper()
	if a := ts.admin(t, "PUT", path, body); a.code != 200 && a.code != 201 {
		t.Fatalf("PUT %s: %d %s", path, a.code, a.body)
	}
}

// listsRole reports whether ts lists repointed with role arn.
func listsRole(t *testing.T, ts *testServer, arn string) bool {
	t.Helper()
	a := ts.admin(t, "GET", "/v1/integrations/repointed", "")
	return a.code == 200 && strings.Contains(a.body, arn)
}
