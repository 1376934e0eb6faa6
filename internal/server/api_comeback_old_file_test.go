package server

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestAPIComebackKeepsRunsEndedOnOldFileReplica: two replicas on one Redis, a rolling
// reload that drops the file stack app-a: A reloads, B not yet. The run R of app-a ends on both
// (A's tombstone). An admin then creates app-a through A, in the space it left. B still has the
// old file, whose app-a wins over the API's: R must stay ended ("Ended runs stay ended when a
// stack with the id comes back, through the API or in the file").
func TestAPIComebackKeepsRunsEndedOnOldFileReplica(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures}
	rs := startReplicas(t, 2, opts)
	a, b := rs[0], rs[1]
	run := a.createRun(t, "app-a", "TRACKED")
	if _, code := b.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("R mints on B: %d", code)
	}
	next := *a.srv.cfg
	next.Stacks = slices.DeleteFunc(slices.Clone(next.Stacks), func(s config.Stack) bool { return s.ID == "app-a" })
	if err := a.srv.Reload(context.Background(), &next, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	within(t, start, "R ended on B", func() bool { _, code := b.mint(t, run.RunToken, ""); return code == 401 })

	a.admin(t, "PUT", "/v1/stacks/app-a", `{"space":"team-a"}`).expect(t, "create app-a through the API", 201)
	time.Sleep(1500 * time.Millisecond)
	if _, code := a.mint(t, run.RunToken, ""); code != 401 {
		t.Errorf("R mints on A after app-a came back through the API: %d, want 401", code)
	}
	if _, code := b.mint(t, run.RunToken, ""); code != 401 {
		t.Errorf("R, ended when app-a left the file, mints again on B (old file) once app-a came back through the API: %d, want 401", code)
	}
}
