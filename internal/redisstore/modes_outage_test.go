package redisstore_test

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestSentinelOutage stops the primary, its replica and every Sentinel under a Sentinel client:
// every call must fail within the bound with the unavailability errors, as on one server, so
// that the server answers 503 rather than 500.
func TestSentinelOutage(t *testing.T) {
	st := redistest.StartSentinel(t)
	c, err := redisstore.Open(redisstore.Options{
		Sentinel: &redisstore.Sentinel{Master: redistest.MasterName, Addrs: st.Addrs()},
		Timeout:  2 * time.Second, Prefix: uniquePrefix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(t.Context()); err != nil {
		t.Fatalf("Ping before the outage: %v", err)
	}
	for _, s := range append(st.Sentinels, st.Primary, st.Replica) {
		s.Stop()
	}
	calls, secrets := outageCalls(t, c)
	checkUnavailable(t, calls, secrets)
}

// TestClusterOutage stops every node under a cluster client, with the same expectations.
func TestClusterOutage(t *testing.T) {
	cl := redistest.StartCluster(t, clusterNodes)
	c, err := redisstore.Open(redisstore.Options{
		Cluster: &redisstore.Cluster{Addrs: cl.Addrs()}, Timeout: 2 * time.Second, Prefix: uniquePrefix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(t.Context()); err != nil {
		t.Fatalf("Ping before the outage: %v", err)
	}
	for _, s := range cl.Nodes {
		s.Stop()
	}
	calls, secrets := outageCalls(t, c)
	checkUnavailable(t, calls, secrets)
}
