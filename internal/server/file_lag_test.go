package server

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestReplicaWithAnOlderFileFollowsRevocations: two replicas share Redis while their files
// differ by one space (a rolling reload in progress). A stack created through A in the space
// only A's file declares does not freeze B's catalog: an API key and a stack deleted on A stop
// working on B within the contract's second, and reloading B with A's file brings it level.
func TestReplicaWithAnOlderFileFollowsRevocations(t *testing.T) {
	redis := redistest.Start(t)
	withExtra := strings.Replace(adminConfig, "spaces:\n", "spaces:\n  - {id: extra, parent: root}\n", 1)
	a := startServer(t, serverOptions{redisURL: redis.URL(), baseYAML: withExtra, keyBackend: "redis"})
	b := startServer(t, serverOptions{redisURL: redis.URL(), baseYAML: adminConfig, issuer: a.URL, keyBackend: "redis"})
	startRun := func(ts *testServer, secret, stack string) (runAnswer, int) {
		t.Helper()
		var run runAnswer
		code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: secret,
			body: map[string]string{"stack": stack, "runType": "TRACKED"}, out: &run})
		return run, code
	}

	var key struct {
		Secret string `json:"secret"`
	}
	if code := a.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret,
		body: `{"id":"victim","bindings":[{"role":"orchestrator","space":"prod"}]}`, out: &key}); code != 201 {
		t.Fatalf("create key: %d", code)
	}
	a.admin(t, "PUT", "/v1/stacks/doomed", `{"space":"prod"}`).expect(t, "stack", 201)
	var run runAnswer
	within(t, time.Now(), "the key and stack created on A work on B", func() bool {
		var code int
		run, code = startRun(b, key.Secret, "doomed")
		return code == 201
	})

	a.admin(t, "PUT", "/v1/stacks/in-extra", `{"space":"extra"}`).expect(t, "a stack in the space only A's file has", 201)
	// Each second counts from A's answer to the change, as the contract's bound does.
	a.admin(t, "DELETE", "/v1/api-keys/victim", "").expect(t, "delete the key", 204)
	within(t, time.Now(), "the key deleted on A gets 401 on B", func() bool {
		_, code := startRun(b, key.Secret, "vpc-prod")
		return code == 401
	})
	a.admin(t, "DELETE", "/v1/stacks/doomed", "").expect(t, "delete the stack", 204)
	within(t, time.Now(), "the run of the stack deleted on A gets 401 on B", func() bool {
		_, code := b.mint(t, run.RunToken, "sts.amazonaws.com")
		return code == 401
	})
	if code := b.call(t, apiRequest{method: "GET", path: "/v1/stacks/in-extra", bearer: rootAdminSecret}); code != 404 {
		t.Errorf("B serves a stack in a space its file does not declare: %d", code)
	}

	next := *b.srv.cfg
	next.Spaces = append(slices.Clone(next.Spaces), config.Space{ID: "extra", Parent: "root"})
	if err := b.srv.Reload(context.Background(), &next, nil); err != nil {
		t.Fatalf("reloading B with the file A has: %v", err)
	}
	b.admin(t, "GET", "/v1/stacks/in-extra", "").expect(t, "the stack in extra on B after its reload", 200, `"space":"extra"`)
}

// TestFileStackLeavingSurvivesARestart: a file stack that leaves the file on a reload ends its
// runs, and they stay ended when it comes back, also after a restart on the same file and
// Redis: the leaving is in the store, not only in the memory of the replica that reloaded.
func TestFileStackLeavingSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis"}
	ts := startServer(t, opts)
	old := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, old.RunToken, ""); code != 200 {
		t.Fatalf("mint: %d", code)
	}
	full := *ts.srv.cfg
	without := full
	without.Stacks = slices.DeleteFunc(slices.Clone(full.Stacks), func(s config.Stack) bool { return s.ID == "vpc-prod" })
	if err := ts.srv.Reload(ctx, &without, nil); err != nil {
		t.Fatal(err)
	}
	if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
		t.Fatalf("mint once vpc-prod left the file: %d, want 401", code)
	}
	if err := ts.srv.Reload(ctx, &full, nil); err != nil {
		t.Fatal(err)
	}
	if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
		t.Fatalf("mint once vpc-prod came back: %d, want 401", code)
	}
	ts.stop()

	opts.issuer = ts.URL
	again := startServer(t, opts)
	if _, code := again.mint(t, old.RunToken, ""); code != 401 {
		t.Errorf("after a restart, the run of the stack that left and came back mints: %d, want 401", code)
	}
	if code := again.setPhase(t, old.Run.ID, "APPLYING"); code != 409 {
		t.Errorf("after a restart, the ended run moves to APPLYING: %d, want 409", code)
	}
	if fresh := again.createRun(t, "vpc-prod", "TRACKED"); fresh.Run.ID == "" {
		t.Error("no new run of the stack that came back")
	} else if _, code := again.mint(t, fresh.RunToken, ""); code != 200 {
		t.Errorf("a new run of the stack that came back: %d, want 200", code)
	}
}
