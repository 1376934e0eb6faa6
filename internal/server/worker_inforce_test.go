package server

import (
	"testing"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestAttachmentSwappedDuringTheExchangeHandsNothingOut: an administrator re-points a stack's read
// attachment for aws from integration swap-old to swap-new while a run's exchange through swap-old is
// in flight. The credentials of swap-old, which no longer serves the run, are not handed out
// (credentials.go stillInForce compares the integration in force with the one used): 409.
func TestAttachmentSwappedDuringTheExchangeHandsNothingOut(t *testing.T) {
	emu, late := startEmulator(t)
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	for _, f := range []struct{ path, body string }{
		{"/v1/stacks/swapx", `{"space":"prod"}`},
		{"/v1/integrations/swap-old", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/swap-old","stsEndpoint":"` + emu.URL + `"}}`},
		{"/v1/integrations/swap-new", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/swap-new","stsEndpoint":"` + emu.URL + `"}}`},
		{"/v1/stacks/swapx/attachments/swap-old", `{"read":true}`},
	} {
		if a := ts.admin(t, "PUT", f.path, f.body); a.code != 200 && a.code != 201 {
			t.Fatalf("PUT %s: %d %s", f.path, a.code, a.body)
		}
	}
	sts := awsemu.New(awsemu.Config{Roles: []awsemu.Role{
		{ARN: "arn:aws:iam::123456789012:role/swap-old", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:swapx:run_type:*:scope:read"}},
		{ARN: "arn:aws:iam::123456789012:role/swap-new", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:swapx:run_type:*:scope:read"}},
	}})
	entered, gate := holdUpstream(late, sts)
	run := ts.createRun(t, "swapx", "TRACKED")
	done := credentialsLater(t, ts, run.RunToken, "aws")
	<-entered
	ts.admin(t, "DELETE", "/v1/stacks/swapx/attachments/swap-old", "").expect(t, "detach swap-old", 204)
	ts.admin(t, "PUT", "/v1/stacks/swapx/attachments/swap-new", `{"read":true}`).expect(t, "attach swap-new", 201)
	close(gate)
	res := <-done
	if res.code != 409 || res.ans.Env["AWS_ACCESS_KEY_ID"] != "" {
		t.Errorf("credentials of the integration detached during the exchange: %d integration=%q env=%v %+v, want 409 and nothing handed out",
			res.code, res.ans.Integration, res.ans.Env, res.env.Error)
	}
}

// TestCachedRunOfDeletedStackMintsNothing: a replica whose run cache holds a run
// (Redis) must not mint, sign or record a token for it once its stack is deleted: the cached
// run is checked live (worker.go cachedRun) before anything is minted, so the trail holds only
// the token handed out before the deletion.
func TestCachedRunOfDeletedStackMintsNothing(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{baseYAML: adminConfig, redisURL: redis.URL(), keyBackend: "redis"})
	ts.admin(t, "PUT", "/v1/stacks/cached-gone", `{"space":"prod"}`).expect(t, "create", 201)
	run := ts.createRun(t, "cached-gone", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, "aud"); code != 200 {
		t.Fatalf("mint before delete: %d", code)
	}
	ts.admin(t, "DELETE", "/v1/stacks/cached-gone", "").expect(t, "delete", 204)
	if _, code := ts.mint(t, run.RunToken, "aud"); code != 401 {
		t.Fatalf("mint after delete: %d, want 401", code)
	}
	n := 0
	for _, e := range auditEvents(t, ts, "prod", 100) {
		if e.Action == "token.issue" && e.Run == run.Run.ID {
			n++
			t.Logf("token.issue event: outcome=%q detail=%q", e.Outcome, e.Detail)
		}
	}
	if n != 1 {
		t.Errorf("%d token.issue events for the run, want 1: a token was minted and recorded for a run whose stack was deleted", n)
	}
}

// TestCachedInconsistentRunRefusalsAudited: every refusal of a run whose stored record
// is inconsistent is in the trail, also the second one, which finds the run in the replica's
// run cache (worker.go cachedRun checks EffectiveScope and leaves the refusal to
// authenticateRun, which audits it).
func TestCachedInconsistentRunRefusalsAudited(t *testing.T) {
	rds := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: rds.URL(), keyBackend: "redis"})
	run := ts.createRun(t, "vpc-prod", "PROPOSED")
	editStoredRun(t, rds.Client(), run.Run.ID, map[string]any{"scope": "write"})
	for i := range 2 {
		if _, code := ts.mint(t, run.RunToken, "aud"); code != 403 {
			t.Fatalf("mint %d of an edited run: %d, want 403", i, code)
		}
	}
	denied := 0
	for _, e := range auditEvents(t, ts, "prod", 100) {
		if e.Run == run.Run.ID && e.Action == "token.issue" && e.Outcome == "denied" {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("%d denied token.issue events for the edited run, want 2 (one per refusal)", denied)
	}
}
