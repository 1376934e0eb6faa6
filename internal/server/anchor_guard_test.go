package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestCheckpointsRefuseARewrittenChain: two replicas share Redis and anchor its chain; a store
// writer who cannot sign rewrites an anchored event, recomputes every link after it and takes
// the checkpoints out. Neither replica signs a checkpoint over the result (which would anchor
// the rewrite), and each logs why.
func TestCheckpointsRefuseARewrittenChain(t *testing.T) {
	rds := redistest.Start(t)
	rs := startReplicas(t, 2, serverOptions{redisURL: rds.URL(), keyBackend: "redis", extraYAML: "audit: {checkpoint: {every: 10, interval: 1h}}\n"})
	run := rs[0].createRun(t, "vpc-prod", "TRACKED")
	ctx := context.Background()
	rdb := rds.Client()
	mint := func(n int) {
		for i := 0; i < n; i++ {
			if _, code := rs[i%2].mint(t, run.RunToken, ""); code != 200 {
				t.Fatalf("mint: %d", code)
			}
		}
	}
	mint(30)
	deadline := time.Now().Add(10 * time.Second)
	for rdb.LLen(ctx, "broker:audit:space:"+audit.CheckpointIndex).Val() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := rdb.LLen(ctx, "broker:audit:space:"+audit.CheckpointIndex).Val(); n < 2 {
		t.Fatalf("%d checkpoints after 30 tokens with every=10", n)
	}

	// The rewrite: event 3 changed, each checkpoint replaced by a copy of the event before it
	// (positions, and so the space indexes, stay), every link recomputed, the index emptied.
	raws, err := rdb.LRange(ctx, "broker:audit:events", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i, raw := range raws {
		var e audit.Event
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			t.Fatal(err)
		}
		if e.Action == audit.CheckpointAction {
			if err := json.Unmarshal([]byte(raws[i-1]), &e); err != nil {
				t.Fatal(err)
			}
			e.ID += "-copy"
		}
		if i == 3 {
			e.Detail += "; rewritten"
		}
		e.Prev = prev
		if prev, err = audit.Hash(e); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(e)
		rdb.LSet(ctx, "broker:audit:events", int64(i), b)
	}
	rdb.Set(ctx, "broker:audit:tail", prev, 0)
	rdb.Del(ctx, "broker:audit:space:"+audit.CheckpointIndex)

	deadline = time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && !(strings.Contains(rs[0].Logs.String(), "not signing checkpoints") &&
		strings.Contains(rs[1].Logs.String(), "not signing checkpoints")) {
		mint(4)
		time.Sleep(50 * time.Millisecond)
	}
	for i, r := range rs {
		if !strings.Contains(r.Logs.String(), "not signing checkpoints") {
			t.Errorf("replica %d logged no refusal", i)
		}
	}
	if n := rdb.LLen(ctx, "broker:audit:space:"+audit.CheckpointIndex).Val(); n != 0 {
		t.Errorf("%d checkpoints signed over the rewritten chain", n)
	}
}
