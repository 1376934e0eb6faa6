package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// Cluster is a Redis Cluster of primaries without replicas, each a redis-server on a free
// loopback port, the hash slots split evenly between them.
type Cluster struct {
	t testing.TB
	// Nodes are the cluster's primaries, in slot order.
	Nodes []*Server
}

// StartCluster starts n redis-servers with cluster mode on, gives each an equal share of the
// slots, introduces them to each other (CLUSTER ADDSLOTS, CLUSTER MEET) and waits until every
// node reports the cluster ok with all n nodes and every slot covered. Everything is stopped
// when the test ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("redistest: a cluster needs at least one node, not %d", n)
	}
	c := &Cluster{t: t}
	for range n {
		c.Nodes = append(c.Nodes, StartWith(t, Config{Args: []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000",
		}}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), topologyTimeout)
	defer cancel()
	clients := make([]*redis.Client, n)
	for i, node := range c.Nodes {
		clients[i] = node.Client()
		lo, hi := i*clusterSlots/n, (i+1)*clusterSlots/n
		args := []any{"CLUSTER", "ADDSLOTS"}
		for slot := lo; slot < hi; slot++ {
			args = append(args, slot)
		}
		if err := clients[i].Do(ctx, args...).Err(); err != nil {
			t.Fatalf("redistest: CLUSTER ADDSLOTS %d-%d on %s: %v", lo, hi-1, node.Addr(), err)
		}
	}
	for _, node := range c.Nodes[1:] {
		if err := clients[0].ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(node.port)).Err(); err != nil {
			t.Fatalf("redistest: CLUSTER MEET %s: %v", node.Addr(), err)
		}
	}
	waitFor(t, "the cluster to be ok on every node", func(ctx context.Context) error {
		for i, rc := range clients {
			info, err := rc.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			for _, want := range []string{"cluster_state:ok", "cluster_known_nodes:" + strconv.Itoa(n),
				"cluster_slots_assigned:" + strconv.Itoa(clusterSlots)} {
				if !strings.Contains(info, want) {
					return fmt.Errorf("node %d (%s): no %s yet", i, c.Nodes[i].Addr(), want)
				}
			}
		}
		return nil
	})
	return c
}

// Addrs returns the nodes' host:port addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		out[i] = s.Addr()
	}
	return out
}

// Client returns a cluster client of the nodes for direct inspection, closed when the test
// ends.
func (c *Cluster) Client() *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), DialTimeout: 2 * time.Second})
	c.t.Cleanup(func() { _ = cc.Close() })
	return cc
}
