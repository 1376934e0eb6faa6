package server

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestCatalogFollowsAWipedStore: Redis loses its data (restarted empty, or flushed). The
// replicas write back what they had in force, so the objects created through the API survive
// as answered, and administration goes on: an API key created before the loss can be deleted,
// and stops working on every replica.
func TestCatalogFollowsAWipedStore(t *testing.T) {
	redis := redistest.Start(t)
	rs := startReplicas(t, 2, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures})
	a, b := rs[0], rs[1]
	secret := a.newKey(t, "leaky")
	within(t, time.Now(), "the key works on B", func() bool { return b.keyWorks(t, secret) == 200 })

	if err := redis.Client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), "the key is back in the store", func() bool {
		keys, err := redis.Client().HGetAll(context.Background(), "broker:{catalog}:objects").Result()
		return err == nil && keys["api_key/leaky"] != ""
	})
	a.admin(t, "DELETE", "/v1/api-keys/leaky", "").expect(t, "delete the key after the loss", 204)
	start := time.Now()
	for name, r := range map[string]*testServer{"A": a, "B": b} {
		within(t, start, "the deleted key fails on "+name, func() bool { return r.keyWorks(t, secret) == 401 })
	}
	a.admin(t, "PUT", "/v1/stacks/s2", `{"space":"prod"}`).expect(t, "create a stack after the loss", 201)
	within(t, time.Now(), "B has the new stack", func() bool {
		return b.admin(t, "GET", "/v1/stacks/s2", "").code == 200
	})
}

// TestCatalogFollowsAStoreThatLostACommit: a failover promotes a Redis replica that lacks the
// primary's last catalog commit (replication is asynchronous; here the catalog's keys are
// restored as they were one commit earlier). Another commit then takes the lost one's
// revision. The replicas that had seen the lost commit tell the two apart by the commit's id:
// an API key deleted by the new commit stops working on them within the second, and the lost
// commit's stack, which they had in force, is written back for every replica.
func TestCatalogFollowsAStoreThatLostACommit(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures}
	rs := startReplicas(t, 2, opts)
	a, b := rs[0], rs[1]

	secret := a.newKey(t, "doomed")
	goBack := catalogAsNow(t, redis.Client())
	a.admin(t, "PUT", "/v1/stacks/lost", `{"space":"prod"}`).expect(t, "the commit the failover loses", 201)
	within(t, time.Now(), "B has the stack", func() bool { return b.admin(t, "GET", "/v1/stacks/lost", "").code == 200 })
	goBack()
	// A replica that never saw the lost commit makes the next one.
	c := startServer(t, func() serverOptions { o := opts; o.issuer = a.URL; return o }())
	c.admin(t, "DELETE", "/v1/api-keys/doomed", "").expect(t, "delete the key on C", 204)
	start := time.Now()
	for name, r := range map[string]*testServer{"A": a, "B": b} {
		within(t, start, "the deleted key fails on "+name, func() bool { return r.keyWorks(t, secret) == 401 })
	}
	within(t, start, "the lost stack is back on C", func() bool { return c.admin(t, "GET", "/v1/stacks/lost", "").code == 200 })
}

// TestReplicaCutOffFromTheStoreRefusesKeys: a replica that cannot reach Redis cannot hear of an
// API key deleted through another; within a second of its last read of the catalog it answers
// the key's calls 503 (as it does any call that needs the store) rather than serve them from a
// catalog that may still hold the key.
func TestReplicaCutOffFromTheStoreRefusesKeys(t *testing.T) {
	redis := redistest.Start(t)
	proxy := startCutProxy(t, redis.Addr())
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig,
		extraYAML: "\nlimits: {auth_failures: 1000, window: 1m, cooloff: 1m, store_timeout: 300ms}\n"}
	a := startServer(t, opts)
	opts.issuer, opts.redisURL = a.URL, "redis://"+strings.TrimPrefix(proxy.URL(), "http://")+"/0"
	b := startServer(t, opts)
	secret := a.newKey(t, "revoked")
	within(t, time.Now(), "the key works on B", func() bool { return b.keyWorks(t, secret) == 200 })

	proxy.Cut()
	a.admin(t, "DELETE", "/v1/api-keys/revoked", "").expect(t, "delete the key on A", 204)
	deadline := time.Now().Add(catalog.MaxStale + time.Second)
	for _, path := range []string{"/v1/stacks", "/v1/spaces", "/v1/runs/01HZX3K9Q8W7E6R5T4Y3U2I1O0"} {
		for {
			code := b.call(t, apiRequest{method: "GET", path: path, bearer: secret})
			if code == 503 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s on B, cut off from the store, with a key deleted on A: %d, want 503", path, code)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// catalogAsNow copies the catalog's keys in Redis and returns a function that puts them back
// as they are now: what a failover to a replica that received no later write does.
func catalogAsNow(t *testing.T, rc *goredis.Client) (goBack func()) {
	t.Helper()
	ctx := context.Background()
	keys := []string{"broker:{catalog}:objects", "broker:{catalog}:rev", "broker:{catalog}:commit"}
	dumps := map[string]string{}
	for _, k := range keys {
		d, err := rc.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("dump %s: %v", k, err)
		}
		dumps[k] = d
	}
	return func() {
		t.Helper()
		for _, k := range keys {
			if err := rc.RestoreReplace(ctx, k, 0, dumps[k]).Err(); err != nil {
				t.Fatalf("restore %s: %v", k, err)
			}
		}
	}
}

// TestDeletionsTheStoreLostStay: an API key and a stack (with a run at write) deleted through
// a replica, then lost by the store (it goes back to before the deletions), stay deleted: the
// replica writes the deletions back, so also a replica started afterwards refuses the key and
// the ended run.
func TestDeletionsTheStoreLostStay(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures}
	a := startServer(t, opts)
	secret := a.newKey(t, "revoked")
	a.admin(t, "PUT", "/v1/stacks/gone", `{"space":"prod"}`).expect(t, "create the stack", 201)
	run := a.createRun(t, "gone", "TRACKED")
	for _, phase := range []string{"PLANNING", "APPLYING"} {
		if code := a.setPhase(t, run.Run.ID, phase); code != 200 {
			t.Fatalf("%s: %d", phase, code)
		}
	}
	goBack := catalogAsNow(t, redis.Client())
	a.admin(t, "DELETE", "/v1/api-keys/revoked", "").expect(t, "delete the key", 204)
	a.admin(t, "DELETE", "/v1/stacks/gone", "").expect(t, "delete the stack", 204)
	goBack()
	within(t, time.Now(), "the deletions are back in the store", func() bool {
		objects, err := redis.Client().HGetAll(context.Background(), "broker:{catalog}:objects").Result()
		// A tombstone is "<version>:<when deleted>:", with no body but the place a stack left.
		return err == nil && strings.HasSuffix(objects["api_key/revoked"], ":") && strings.HasSuffix(objects["stack/gone"], ":from:prod")
	})
	opts.issuer = a.URL
	c := startServer(t, opts)
	for name, r := range map[string]*testServer{"A": a, "C": c} {
		if code := r.keyWorks(t, secret); code != 401 {
			t.Errorf("%s: the deleted key: %d, want 401", name, code)
		}
		if _, code := r.mint(t, run.RunToken, ""); code != 401 {
			t.Errorf("%s: the run its stack's deletion ended mints: %d, want 401", name, code)
		}
	}
}

// TestFinishTheStoreLostStays: a run finished through a replica, then put back as it was by
// the store (a failover to a replica that had not received the finish), is finished again by
// that replica at its next check: its token, at write, gets 401 again, and the run reads
// FINISHED.
func TestFinishTheStoreLostStays(t *testing.T) {
	redis := redistest.Start(t)
	a := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures})
	run := a.createRun(t, "vpc-prod", "TRACKED")
	for _, phase := range []string{"PLANNING", "APPLYING"} {
		if code := a.setPhase(t, run.Run.ID, phase); code != 200 {
			t.Fatalf("%s: %d", phase, code)
		}
	}
	rc, ctx := redis.Client(), context.Background()
	keys, err := rc.Keys(ctx, "broker:run*").Result()
	if err != nil || len(keys) < 2 {
		t.Fatalf("the run's keys: %v, %v", keys, err)
	}
	dumps := map[string]string{}
	for _, k := range keys {
		if dumps[k], err = rc.Dump(ctx, k).Result(); err != nil {
			t.Fatal(err)
		}
	}
	if code := a.call(t, apiRequest{method: "POST", path: "/v1/runs/" + run.Run.ID + "/finish", bearer: adminSecret}); code != 200 {
		t.Fatalf("finish: %d", code)
	}
	for k, d := range dumps {
		if err := rc.RestoreReplace(ctx, k, 0, d).Err(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(finishCheck + time.Second)
	for {
		var got runAnswer
		code := a.call(t, apiRequest{method: "GET", path: "/v1/runs/" + run.Run.ID, bearer: adminSecret, out: &got})
		if code == 200 && got.Run.Phase == "FINISHED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run reads %d %s %v after the store lost its finish, want FINISHED", code, got.Run.Phase, finishCheck+time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, code := a.mint(t, run.RunToken, ""); code != 401 {
		t.Errorf("the finished run's token: %d, want 401", code)
	}
}
