package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/audit/audittest"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/catalog/catalogtest"
	"github.com/brokerhq/broker/internal/ratelimit"
	"github.com/brokerhq/broker/internal/ratelimit/ratelimittest"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/runs/runstest"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// clusterNodes is the size of the test cluster: three primaries, the smallest Redis Cluster
// that keeps a majority when one fails.
const clusterNodes = 3

// cluster starts a three-primary Redis Cluster for t, stopped when t ends.
func cluster(t *testing.T) *redistest.Cluster {
	t.Helper()
	return redistest.StartCluster(t, clusterNodes)
}

// openCluster returns a client of the cluster c with the given prefix, closed when t ends.
func openCluster(t testing.TB, c *redistest.Cluster, prefix string) *redisstore.Client {
	t.Helper()
	client, err := redisstore.Open(redisstore.Options{
		Cluster: &redisstore.Cluster{Addrs: c.Addrs()}, Timeout: suiteTimeout, Prefix: prefix,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// TestClusterContracts runs the contract suite of every view on a three-primary Redis Cluster,
// with two clients sharing a prefix wherever the suite models two broker replicas.
func TestClusterContracts(t *testing.T) {
	c := cluster(t)
	runViewContracts(t, func(t *testing.T, prefix string) *redisstore.Client { return openCluster(t, c, prefix) })
}

// runViewContracts runs the contract suite of every view of the clients open returns, one fresh
// prefix per case, two clients on one prefix wherever a suite models two broker replicas.
func runViewContracts(t *testing.T, open func(t *testing.T, prefix string) *redisstore.Client) {
	t.Run("runs", func(t *testing.T) {
		runstest.TestStoreWith(t, func(t *testing.T, _ *runstest.FakeClock) runs.Store {
			return open(t, uniquePrefix()).Runs()
		}, runstest.Options{RealTime: true})
	})
	t.Run("keys", func(t *testing.T) {
		keystest.TestBackend(t, func(t *testing.T) keys.Backend {
			return open(t, uniquePrefix()).Keys(newKEK(t))
		})
	})
	t.Run("limiter", func(t *testing.T) {
		ratelimittest.TestLimiter(t, func(t *testing.T, p ratelimit.Policy) ratelimit.Limiter {
			return open(t, uniquePrefix()).Limiter(p)
		})
	})
	t.Run("audit", func(t *testing.T) {
		audittest.TestStore(t, func(t *testing.T) (audit.Store, audit.Store) {
			prefix := uniquePrefix()
			return open(t, prefix).Audit(), open(t, prefix).Audit()
		})
	})
	t.Run("audit feed", func(t *testing.T) {
		audittest.TestFeed(t, func(t *testing.T) audittest.Feed {
			prefix := uniquePrefix()
			a, b := open(t, prefix).Audit(), open(t, prefix).Audit()
			return audittest.Feed{Store: a, Reader: a.(audit.Reader), A: a.(audit.Cursors), B: b.(audit.Cursors)}
		})
	})
	t.Run("catalog", func(t *testing.T) {
		catalogtest.Run(t, func(t *testing.T) catalog.Store {
			return open(t, uniquePrefix()).Catalog()
		})
	})
	t.Run("catalog manager", func(t *testing.T) {
		catalogtest.RunManager(t, func(t *testing.T, n int) []catalog.Store {
			prefix := uniquePrefix()
			out := make([]catalog.Store, n)
			for i := range out {
				out[i] = open(t, prefix).Catalog()
			}
			return out
		})
	})
}

// TestClusterSpreadsKeys checks that the views' keys land on more than one primary: the hash
// tags group the keys a script uses together, not every key of the broker.
func TestClusterSpreadsKeys(t *testing.T) {
	ctx := context.Background()
	c := cluster(t)
	client := openCluster(t, c, uniquePrefix())
	p := ratelimit.Policy{AuthFailures: 100, Window: time.Minute, Cooloff: time.Minute}
	l := client.Limiter(p)
	for i := range 30 {
		if _, err := l.Failed(ctx, "ip:10.0.0."+string(rune('a'+i))); err != nil {
			t.Fatalf("Failed: %v", err)
		}
	}
	createRun(t, client.Runs(), time.Hour)
	if _, err := client.Audit().Append(ctx, audit.Event{ID: "e1", Action: "test"}, []string{"root"}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	holding := 0
	for _, node := range c.Nodes {
		keys, err := node.Client().Keys(ctx, client.Prefix()+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) > 0 {
			holding++
		}
		for _, k := range keys {
			if !strings.Contains(k, "{") {
				t.Errorf("key %q on a cluster has no hash tag", k)
			}
		}
	}
	if holding < 2 {
		t.Errorf("the keys sit on %d of %d primaries; want them spread", holding, clusterNodes)
	}
}

// TestClusterTwoReplicas drives one run and one limiter key through two clients of the
// cluster, as two broker replicas would.
func TestClusterTwoReplicas(t *testing.T) {
	ctx := context.Background()
	c := cluster(t)
	prefix := uniquePrefix()
	a, b := openCluster(t, c, prefix), openCluster(t, c, prefix)
	run, token := createRun(t, a.Runs(), time.Hour)
	if got, err := b.Runs().GetByToken(ctx, runs.HashToken(token)); err != nil || got.ID != run.ID {
		t.Fatalf("replica b GetByToken = %+v, %v; want the run created on a", got, err)
	}
	if _, err := b.Runs().Update(ctx, run.ID, moveTo(runs.Finished)); err != nil {
		t.Fatalf("replica b Update to FINISHED: %v", err)
	}
	if _, err := a.Runs().GetByToken(ctx, runs.HashToken(token)); err == nil {
		t.Error("replica a still finds the run by its token after b finished it")
	}
	p := ratelimit.Policy{AuthFailures: 2, Window: time.Minute, Cooloff: time.Minute}
	for _, l := range []ratelimit.Limiter{a.Limiter(p), b.Limiter(p)} {
		if _, err := l.Failed(ctx, "ip:192.0.2.1"); err != nil {
			t.Fatalf("Failed: %v", err)
		}
	}
	if wait, err := a.Limiter(p).Failed(ctx, "ip:192.0.2.1"); err != nil || wait <= 0 {
		t.Errorf("third failure across replicas: wait %v, %v; want a block", wait, err)
	}
}
