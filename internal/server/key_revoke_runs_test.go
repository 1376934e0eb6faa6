package server

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestDeletedKeyEndsItsRuns: the API key that started a run is recorded on it, and deleting
// the key ends its unfinished runs as deleting their stack does: a leaked key's write-phase run
// gets no token or credentials once the key is deleted, shows as finished, can only be
// finished, and stays ended when a key is created again under the id. Runs other keys started
// go on. On the memory store and on Redis, which keeps the run's creator in its record.
func TestDeletedKeyEndsItsRuns(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testDeletedKeyEndsItsRuns(t, serverOptions{}) })
	t.Run("redis", func(t *testing.T) {
		testDeletedKeyEndsItsRuns(t, serverOptions{redisURL: redistest.Start(t).URL(), keyBackend: "redis"})
	})
}

func testDeletedKeyEndsItsRuns(t *testing.T, opts serverOptions) {
	opts.baseYAML, opts.extraYAML = adminConfig, manyFailures
	ts := startServer(t, opts)
	secret := newOrchestratorKey(t, ts)
	var leaked runAnswer
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: secret,
		body: `{"stack":"vpc-prod","runType":"TRACKED","phase":"APPLYING"}`, out: &leaked}); code != 201 {
		t.Fatalf("run started by the key: %d", code)
	}
	if leaked.Run.CreatedBy != "orch" {
		t.Errorf("the run names %q as its creator, want orch", leaked.Run.CreatedBy)
	}
	if _, code := ts.mint(t, leaked.RunToken, ""); code != 200 {
		t.Fatalf("mint while the key stands: %d", code)
	}
	other := ts.createRun(t, "vpc-prod", "TRACKED")

	if code := ts.call(t, apiRequest{method: "DELETE", path: "/v1/api-keys/orch", bearer: rootAdminSecret}); code != 204 {
		t.Fatalf("delete key: %d", code)
	}
	if _, code := ts.mint(t, leaked.RunToken, ""); code != 401 {
		t.Errorf("mint for a run of a deleted key: %d, want 401", code)
	}
	if _, code, _ := ts.credentials(t, leaked.RunToken, "aws", ""); code != 401 {
		t.Errorf("credentials for a run of a deleted key: %d, want 401", code)
	}
	var got runAnswer
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + leaked.Run.ID, bearer: rootAdminSecret, out: &got}); code != 200 || got.Run.Phase != "FINISHED" {
		t.Errorf("GET the run of a deleted key: %d, phase %s; want 200 FINISHED", code, got.Run.Phase)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + leaked.Run.ID + "/phase", bearer: rootAdminSecret, body: `{"phase":"APPLYING"}`}); code != 409 {
		t.Errorf("moving the run of a deleted key: %d, want 409", code)
	}
	if _, code := ts.mint(t, other.RunToken, ""); code != 200 {
		t.Errorf("mint for a run another key started: %d, want 200", code)
	}

	newOrchestratorKey(t, ts) // the id again, with a new secret
	if _, code := ts.mint(t, leaked.RunToken, ""); code != 401 {
		t.Errorf("mint for a run of a deleted key once its id is created again: %d, want 401", code)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + leaked.Run.ID + "/finish", bearer: rootAdminSecret}); code != 200 {
		t.Errorf("finishing the run of a deleted key: %d, want 200", code)
	}
}

// TestRecreatedKeyStartsLiveRuns: a key deleted and created again under its id (a leaked key
// replaced) counts as created a little later (catalog.SettleTime); a run it starts at once
// starts then too, live, not born ended.
func TestRecreatedKeyStartsLiveRuns(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, extraYAML: manyFailures})
	newOrchestratorKey(t, ts)
	if code := ts.call(t, apiRequest{method: "DELETE", path: "/v1/api-keys/orch", bearer: rootAdminSecret}); code != 204 {
		t.Fatalf("delete key: %d", code)
	}
	secret := newOrchestratorKey(t, ts)
	var run runAnswer
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: secret,
		body: `{"stack":"vpc-prod","runType":"TRACKED"}`, out: &run}); code != 201 {
		t.Fatalf("run started by the re-created key: %d", code)
	}
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Errorf("mint for a run the re-created key just started (201): %d, want 200", code)
	}
	var got runAnswer
	ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + run.Run.ID, bearer: rootAdminSecret, out: &got})
	if got.Run.Phase != "INITIALIZING" {
		t.Errorf("GET of the run just started: phase %s, want INITIALIZING", got.Run.Phase)
	}
}

// TestFileKeyRemovedThenRestoredKeepsRunsEnded: a key removed from the file by one reload ends
// its runs, and declaring it again (a new secret, after a leak) by the next does not revive
// them: the store records when a file key left, as it does for stacks.
func TestFileKeyRemovedThenRestoredKeepsRunsEnded(t *testing.T) {
	ctx := context.Background()
	ts := startServer(t, serverOptions{extraYAML: manyFailures})
	var run runAnswer
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: adminSecret,
		body: `{"stack":"vpc-prod","runType":"TRACKED","phase":"APPLYING"}`, out: &run}); code != 201 {
		t.Fatalf("start run with ci: %d", code)
	}
	orig := *ts.srv.cfg
	without := orig
	without.APIKeys = slices.DeleteFunc(slices.Clone(orig.APIKeys), func(k config.APIKey) bool { return k.ID == "ci" })
	if err := ts.srv.Reload(ctx, &without, nil); err != nil {
		t.Fatal(err)
	}
	if _, code := ts.mint(t, run.RunToken, ""); code != 401 {
		t.Fatalf("mint once ci left the file: %d, want 401", code)
	}
	back := orig
	back.APIKeys = slices.Clone(orig.APIKeys)
	for i := range back.APIKeys {
		if back.APIKeys[i].ID == "ci" {
			back.APIKeys[i].SecretSHA256 = sha256Hex("a-brand-new-secret-after-the-leak")
		}
	}
	if err := ts.srv.Reload(ctx, &back, nil); err != nil {
		t.Fatal(err)
	}
	if tok, code := ts.mint(t, run.RunToken, ""); code != 401 {
		t.Errorf("mint for the leaked key's APPLYING run once ci is declared again with a new secret: %d (scope %v), want 401",
			code, decodePayload(t, tok.Token)["scope"])
	}
}

// TestNewKeyRunOnSkewedReplica: a key created on replica A carries A's clock as its creation;
// replica B, whose clock is 800 ms behind, starts a run with it at the key's creation at the
// earliest, so the run is live.
func TestNewKeyRunOnSkewedReplica(t *testing.T) {
	redis := redistest.Start(t)
	a := startServer(t, serverOptions{baseYAML: adminConfig, redisURL: redis.URL(), keyBackend: "redis", extraYAML: manyFailures})
	b := startServer(t, serverOptions{baseYAML: adminConfig, redisURL: redis.URL(), keyBackend: "redis", issuer: a.URL, extraYAML: manyFailures,
		now: func() time.Time { return time.Now().Add(-800 * time.Millisecond) }})
	secret := a.newKey(t, "skewed")
	for b.keyWorks(t, secret) != 200 {
		time.Sleep(5 * time.Millisecond)
	}
	var run runAnswer
	if code := b.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: secret,
		body: `{"stack":"vpc-prod","runType":"TRACKED"}`, out: &run}); code != 201 {
		t.Fatalf("run on B with the new key: %d", code)
	}
	if _, code := b.mint(t, run.RunToken, ""); code != 200 {
		t.Errorf("mint for the run the new key just started on the skewed replica (201): %d, want 200", code)
	}
}

// newOrchestratorKey creates API key "orch", bound to role orchestrator on space prod, through
// the API, and returns its secret.
func newOrchestratorKey(t *testing.T, ts *testServer) string {
	t.Helper()
	var key struct {
		Secret string `json:"secret"`
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret,
		body: `{"id":"orch","bindings":[{"role":"orchestrator","space":"prod"}]}`, out: &key}); code != 201 {
		t.Fatalf("create key: %d", code)
	}
	return key.Secret
}
