package redistest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

func TestLifeCycle(t *testing.T) {
	ctx := context.Background()
	s := redistest.Start(t)
	if s.PID() == 0 {
		t.Fatal("PID() = 0 for a running server")
	}
	if want := "redis://" + s.Addr() + "/0"; s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	c := s.Client()
	if err := c.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}

	s.Stop()
	if s.PID() != 0 {
		t.Errorf("PID() = %d after Stop, want 0", s.PID())
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Error("PING succeeded while the server is stopped")
	}
	s.Restart()
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "before" {
		t.Fatalf("GET after Stop and Restart = %q, %v; want %q (AOF)", got, err, "before")
	}

	if err := c.Set(ctx, "k", "after", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Kill()
	s.Restart()
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "after" {
		t.Fatalf("GET after Kill and Restart = %q, %v; want %q (AOF fsynced always)", got, err, "after")
	}
}

// TestSentinelFailover kills the primary and checks that the Sentinels promote the replica,
// which kept what was written before.
func TestSentinelFailover(t *testing.T) {
	ctx := context.Background()
	st := redistest.StartSentinel(t)
	if got, err := st.Master(ctx); err != nil || got != st.Primary.Addr() {
		t.Fatalf("Master() = %q, %v; want the primary %s", got, err, st.Primary.Addr())
	}
	if err := st.Primary.Client().Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	st.Primary.Kill()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := st.Master(ctx)
		if err == nil && got == st.Replica.Addr() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Master() = %q, %v 60 s after the kill; want the replica %s", got, err, st.Replica.Addr())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := st.Replica.Client().Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("promoted replica GET k = %q, %v; want v", got, err)
	}
}

// TestCluster checks that keys land on every node of a three-node cluster and that a
// multi-key command across slots is refused, as Redis Cluster does.
func TestCluster(t *testing.T) {
	ctx := context.Background()
	c := redistest.StartCluster(t, 3)
	cc := c.Client()
	for i := range 30 {
		if err := cc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET k%d: %v", i, err)
		}
	}
	for _, node := range c.Nodes {
		if n, err := node.Client().DBSize(ctx).Result(); err != nil || n == 0 {
			t.Errorf("node %s holds %d keys, %v; want some", node.Addr(), n, err)
		}
	}
	if err := cc.MSet(ctx, "{a}x", 1, "{a}y", 2).Err(); err != nil {
		t.Errorf("MSET within one hash tag: %v", err)
	}
	if err := c.Nodes[0].Client().MSet(ctx, "a", 1, "b", 2).Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("MSET across slots: %v, want CROSSSLOT", err)
	}
}
