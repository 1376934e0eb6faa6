package server

import (
	"testing"

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
	newKey := func() string {
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
	secret := newKey()
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

	newKey() // the id again, with a new secret
	if _, code := ts.mint(t, leaked.RunToken, ""); code != 401 {
		t.Errorf("mint for a run of a deleted key once its id is created again: %d, want 401", code)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + leaked.Run.ID + "/finish", bearer: rootAdminSecret}); code != 200 {
		t.Errorf("finishing the run of a deleted key: %d, want 200", code)
	}
}
