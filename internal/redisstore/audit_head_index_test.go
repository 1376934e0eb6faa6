package redisstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestHeadIgnoresNegativeCheckpointPosition: a checkpoint index whose last entry is a
// negative position (changed in the store) names no event of the chain: Head reports no
// checkpoint, rather than the chain's last event read from the list's end.
// Guards against: Head dropping its at >= 0 condition.
func TestHeadIgnoresNegativeCheckpointPosition(t *testing.T) {
	ctx := context.Background()
	c := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout)
	st := c.Audit()
	for i := range 2 {
		e := audit.Event{ID: fmt.Sprint("ev-", i), Action: "token.issue", Space: "root"}
		if _, err := st.Append(ctx, e, []string{"root"}); err != nil {
			t.Fatal(err)
		}
	}
	idx := c.Prefix() + "audit:space:" + audit.CheckpointIndex
	if err := c.Redis().RPush(ctx, idx, -1).Err(); err != nil {
		t.Fatal(err)
	}
	head, err := st.Head(ctx)
	if err != nil || head.Count != 2 || head.Checkpoint != nil {
		t.Errorf("Head = %+v, %v; want 2 events and no checkpoint", head, err)
	}
}
