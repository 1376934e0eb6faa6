package server

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestRollingSecretReplacementThenRestartEndsRuns: two replicas on one Redis. The ci key's secret is
// replaced in the file (test -> s2) by a rolling reload, A then B. A run is started with s2. s2
// leaks: every replica stops, the file gets s3, a replica starts. The README: "a replica that
// starts on a changed file records what left it, as a reload would" and a file key "given another
// secret_sha256: the runs its old secret started end". The s2 run must get 401.
func TestRollingSecretReplacementThenRestartEndsRuns(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis"}
	rs := startReplicas(t, 2, opts)
	a, b := rs[0], rs[1]
	withSecret := func(ts *testServer, secret string) {
		t.Helper()
		next := *ts.srv.cfg
		next.APIKeys = slices.Clone(next.APIKeys)
		for i := range next.APIKeys {
			if next.APIKeys[i].ID == "ci" {
				next.APIKeys[i].SecretSHA256 = sha256Hex(secret)
			}
		}
		if err := ts.srv.Reload(context.Background(), &next, nil); err != nil {
			t.Fatal(err)
		}
	}
	withSecret(a, "s2")
	time.Sleep(20 * time.Millisecond)
	withSecret(b, "s2")
	time.Sleep(1200 * time.Millisecond) // A hears of B's reload (its second leave of ci) first

	var run runAnswer
	if code := a.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: "s2", body: map[string]string{"stack": "app-a", "runType": "TRACKED"}, out: &run}); code != 201 {
		t.Fatalf("s2 starts a run: %d", code)
	}
	if _, code := a.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("the s2 run mints: %d", code)
	}
	a.stop()
	b.stop()

	opts.issuer = a.URL
	opts.baseYAML = strings.Replace(testConfig, sha256Hex(adminSecret), sha256Hex("s3"), 1)
	c := startServer(t, opts)
	if code := c.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: "s3", body: map[string]string{"stack": "app-a", "runType": "TRACKED"}}); code != 201 {
		t.Fatalf("s3 starts a run on the restarted replica: %d", code)
	}
	if _, code := c.mint(t, run.RunToken, ""); code != 401 {
		t.Errorf("after a restart on a file that replaced the leaked secret s2, the run s2 started mints: %d, want 401", code)
	}
}
