package server

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestStoreOutOfMemory: with Redis refusing writes (maxmemory reached), an administrative
// change is 503 unavailable, as a run or a token is, and a wrong credential is still 401 or
// 503: never a 500.
func TestStoreOutOfMemory(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig})
	rc, ctx := redis.Client(), context.Background()
	if err := rc.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.ConfigSet(context.Background(), "maxmemory", "0").Err() })

	ts.admin(t, "PUT", "/v1/stacks/full", `{"space":"prod"}`).expect(t, "a change while Redis is full", 503)
	for _, c := range []struct{ name, method, path, secret string }{
		{"wrong API key", "GET", "/v1/stacks", "not-a-key"},
		{"wrong run token", "POST", "/v1/token", "brk_run_notatoken"},
	} {
		if code := ts.call(t, apiRequest{method: c.method, path: c.path, bearer: c.secret, body: map[string]string{}}); code != 401 && code != 503 {
			t.Errorf("%s while Redis is full: %d, want 401 or 503", c.name, code)
		}
	}
}
