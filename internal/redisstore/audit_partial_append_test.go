package redisstore_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestFailedAppendWritesNothing: an audit append that fails (here: a space index key of
// the wrong type, set by someone else, makes its RPUSH answer WRONGTYPE) appends none of its
// batch: the event list keeps its length, and the chain the store holds still verifies after
// the next good append. A script is not rolled back by Redis, so a write before the failing
// command would leave an event whose token was never handed out, chained off the tail.
func TestFailedAppendWritesNothing(t *testing.T) {
	srv := redistest.Start(t)
	c := open(t, srv, uniquePrefix(), suiteTimeout)
	store, rdb, ctx := c.Audit(), c.Redis(), context.Background()
	events := c.Prefix() + "audit:events"
	ok := []string{"ok"}
	if _, err := store.Append(ctx, audit.Event{ID: "first", Action: "test"}, ok); err != nil {
		t.Fatalf("first Append: %v", err)
	}
	if err := rdb.Set(ctx, c.Prefix()+"audit:space:bad", "not a list", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := store.Append(ctx, audit.Event{ID: "refused", Action: "test"}, []string{"bad"})
	if err == nil {
		t.Fatal("Append onto a space index of the wrong type succeeded")
	}
	if n := rdb.LLen(ctx, events).Val(); n != 1 {
		t.Errorf("event list holds %d events after a failed append, want 1", n)
	}
	if _, err := store.Append(ctx, audit.Event{ID: "second", Action: "test"}, ok); err != nil {
		t.Fatalf("second Append: %v", err)
	}
	raw := rdb.LRange(ctx, events, 0, -1).Val()
	chain := make([]audit.Event, 0, len(raw))
	for _, r := range raw {
		var e audit.Event
		if err := json.Unmarshal([]byte(r), &e); err != nil {
			t.Fatal(err)
		}
		chain = append(chain, e)
	}
	if err := audit.Verify(chain); err != nil {
		t.Errorf("stored chain no longer verifies: %v (%d events)", err, len(chain))
	}
}
