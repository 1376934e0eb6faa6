package redisstore_test

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestCheckpointWhoseReplyIsLost: Redis appends a checkpoint and the connection drops
// before its reply; the client sends the call again. AppendCheckpoint reports the checkpoint it
// appended as written (the contract: false only when nothing was appended), and it is in the
// chain once.
func TestCheckpointWhoseReplyIsLost(t *testing.T) {
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	ctx := context.Background()
	direct := open(t, srv, prefix, suiteTimeout)
	first := audit.Event{ID: "cp-first", Action: audit.CheckpointAction,
		Actor: audit.CheckpointActor, Space: "root", Detail: "x.y.z"}
	// Loads the script, so the dropped call is the one that appends.
	_, ok, err := direct.Audit().AppendCheckpoint(ctx, first, []string{"root"}, -1)
	if !ok || err != nil {
		t.Fatalf("first checkpoint: written %v, %v", ok, err)
	}
	addr := dropProxy(t, srv.Addr(), []byte(`"id":"cp-lost"`))
	c, err := redisstore.Open(redisstore.Options{URL: "redis://" + addr + "/0",
		Timeout: suiteTimeout, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cp := audit.Event{ID: "cp-lost", Action: audit.CheckpointAction,
		Actor: audit.CheckpointActor, Space: "root", Detail: "x.y.z"}
	got, ok, err := c.Audit().AppendCheckpoint(ctx, cp, []string{"root"}, 0)
	events, _, lerr := direct.Audit().List(ctx, audit.CheckpointIndex, "", 100)
	if lerr != nil {
		t.Fatal(lerr)
	}
	var ids []string
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	if len(ids) != 2 || ids[1] != "cp-lost" {
		t.Fatalf("checkpoints %v, want [cp-first cp-lost]", ids)
	}
	if !ok || err != nil {
		t.Errorf("AppendCheckpoint whose reply was lost = written %v, %v; want true, nil "+
			"(its checkpoint is in the chain)", ok, err)
	}
	if got.ID != cp.ID || got.Prev == "" {
		t.Errorf("AppendCheckpoint returned %+v, want the checkpoint as it landed", got)
	}
}
