package redisstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestCheckpointIndexPastTheEnd: a checkpoint index whose last entry names a position the event
// list does not hold (changed in the store) makes every checkpoint append fail with an error,
// not report another replica's checkpoint first, which would stop checkpoints unnoticed.
func TestCheckpointIndexPastTheEnd(t *testing.T) {
	srv := redistest.Start(t)
	c, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "cpidx:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	st := c.Audit()
	for i := range 3 {
		if _, err := st.Append(ctx, audit.Event{ID: fmt.Sprint(i), Action: "token.issue", Space: "root"}, []string{"root"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Redis().RPush(ctx, c.Prefix()+"audit:space:"+audit.CheckpointIndex, 99).Err(); err != nil {
		t.Fatal(err)
	}
	head, err := st.Head(ctx)
	if err != nil || head.Checkpoint != nil {
		t.Fatalf("head %+v, %v; want no checkpoint readable", head, err)
	}
	cp := audit.Event{ID: "cp", Action: audit.CheckpointAction, Actor: audit.CheckpointActor, Space: "root", Detail: "x.y.z"}
	if _, wrote, err := st.AppendCheckpoint(ctx, cp, []string{"root"}, -1); wrote || err == nil {
		t.Errorf("checkpoint append: written %v, %v; want an error", wrote, err)
	}
}
