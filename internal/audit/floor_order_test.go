package audit_test

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestFloorIsTheLowestCursorInAnyOrder: the floor is the lowest cursor of the sinks named,
// wherever the sink furthest behind is in the list (the memory store holds events for it, see
// Memory.HoldFor): first, middle or last.
func TestFloorIsTheLowestCursorInAnyOrder(t *testing.T) {
	ctx := context.Background()
	c := audit.NewMemoryCursors(nil)
	for s, pos := range map[string]int64{"a": 7, "b": 3, "c": 11} {
		if _, err := c.Claim(ctx, s, "me", 1<<40); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Advance(ctx, s, "me", audit.SinkCursor{Pos: pos}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sinks := range [][]string{{"b", "a", "c"}, {"a", "b", "c"}, {"c", "a", "b"}} {
		if got := c.Floor(sinks); got != 3 {
			t.Errorf("Floor(%v) = %d, want 3 (b's cursor)", sinks, got)
		}
	}
}
