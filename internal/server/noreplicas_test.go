package server

import (
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestNoReplicasIsUnavailable: a primary that refuses writes under min-replicas-to-write (as
// right after a failover, with the README's advice applied) makes every write answer 503 in
// the envelope: run creation, tokens, phase changes and administration changes alike.
func TestNoReplicasIsUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	ts := startServer(t, serverOptions{keyBackend: "redis", redisURL: srv.URL(), baseYAML: adminConfig})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if err := srv.Client().ConfigSet(t.Context(), "min-replicas-to-write", "1").Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []apiRequest{
		{method: "POST", path: "/v1/runs", bearer: adminSecret, body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}},
		{method: "POST", path: "/v1/token", bearer: run.RunToken, body: map[string]string{}},
		{method: "POST", path: "/v1/runs/" + run.Run.ID + "/phase", bearer: adminSecret, body: map[string]string{"phase": "PLANNING"}},
		{method: "PUT", path: "/v1/spaces/zz", bearer: rootAdminSecret, body: map[string]any{"parent": "root"}},
	} {
		var env envelope
		r.out = &env
		if code := ts.call(t, r); code != 503 || env.Error.Code != "unavailable" {
			t.Errorf("%s %s while the primary has too few replicas: %d %+v, want 503 unavailable", r.method, r.path, code, env.Error)
		}
	}
}
