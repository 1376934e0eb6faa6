package server

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestCatalogFollowsAWipedStore: Redis loses its data (restarted empty, or flushed). The
// replicas rebuild their catalog from the store as it is, so administration goes on, and an
// API key created before the loss stops working on every replica: nothing lost from the store
// stays in force in a replica's memory.
func TestCatalogFollowsAWipedStore(t *testing.T) {
	redis := redistest.Start(t)
	rs := startReplicas(t, 2, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures})
	a, b := rs[0], rs[1]
	secret := a.newKey(t, "leaky")
	within(t, time.Now(), "the key works on B", func() bool { return b.keyWorks(t, secret) == 200 })

	if err := redis.Client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for name, r := range map[string]*testServer{"A": a, "B": b} {
		within(t, start, "the key lost with the store fails on "+name, func() bool { return r.keyWorks(t, secret) == 401 })
	}
	a.admin(t, "DELETE", "/v1/api-keys/leaky", "").expect(t, "delete the key the store lost", 404)
	a.admin(t, "PUT", "/v1/stacks/s2", `{"space":"prod"}`).expect(t, "create a stack after the loss", 201)
	within(t, time.Now(), "B has the new stack", func() bool {
		return b.admin(t, "GET", "/v1/stacks/s2", "").code == 200
	})
}

// TestCatalogFollowsAStoreThatLostACommit: a failover promotes a Redis replica that lacks the
// primary's last catalog commit (replication is asynchronous; here the catalog's keys are
// restored as they were one commit earlier). Another commit then takes the lost one's
// revision. The replicas that had seen the lost commit tell the two apart by the commit's id:
// an API key deleted by the new commit stops working on them within the second.
func TestCatalogFollowsAStoreThatLostACommit(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures}
	rs := startReplicas(t, 2, opts)
	a, b := rs[0], rs[1]
	rc, ctx := redis.Client(), context.Background()

	secret := a.newKey(t, "doomed")
	keys := []string{"broker:{catalog}:objects", "broker:{catalog}:rev", "broker:{catalog}:commit"}
	dumps := map[string]string{}
	for _, k := range keys {
		d, err := rc.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("dump %s: %v", k, err)
		}
		dumps[k] = d
	}
	a.admin(t, "PUT", "/v1/stacks/lost", `{"space":"prod"}`).expect(t, "the commit the failover loses", 201)
	within(t, time.Now(), "B has the stack", func() bool { return b.admin(t, "GET", "/v1/stacks/lost", "").code == 200 })
	for _, k := range keys {
		if err := rc.RestoreReplace(ctx, k, 0, dumps[k]).Err(); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
	}
	// A replica that never saw the lost commit makes the next one.
	c := startServer(t, func() serverOptions { o := opts; o.issuer = a.URL; return o }())
	c.admin(t, "DELETE", "/v1/api-keys/doomed", "").expect(t, "delete the key on C", 204)
	start := time.Now()
	for name, r := range map[string]*testServer{"A": a, "B": b} {
		within(t, start, "the deleted key fails on "+name, func() bool { return r.keyWorks(t, secret) == 401 })
		within(t, start, "the lost stack is gone on "+name, func() bool { return r.admin(t, "GET", "/v1/stacks/lost", "").code == 404 })
	}
}
