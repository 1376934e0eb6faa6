package audit_test

import (
	"context"
	"math"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestMemoryHoldsWhatASinkNeeds: a Memory held for a reader of the whole chain keeps, beyond its
// retention, the events from the reader's floor on, up to the backlog, and goes back to its
// retention once the reader has caught up.
func TestMemoryHoldsWhatASinkNeeds(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemoryRetaining(4)
	var floor atomic.Int64
	m.HoldFor(func() int64 { return floor.Load() }, 64)
	add := func(n int) {
		for range n {
			if _, err := m.Append(ctx, audit.Event{Action: "token.issue"}, []string{"root"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	first := func() int64 {
		_, at, err := m.Range(ctx, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}

	add(40)
	if got := first(); got != 0 {
		t.Fatalf("with the reader at 0, the store dropped events up to %d of 40 (backlog 64)", got)
	}
	if events, _, _ := m.Range(ctx, 0, 100); len(events) != 40 {
		t.Fatalf("Range holds %d events, want all 40", len(events))
	}
	add(60) // 100 in all: past the backlog, the oldest go
	if got := first(); got < 100-64-64/16 || got > 100-64 {
		t.Fatalf("with the reader still at 0 and 100 events, the first held is %d, want about %d (the backlog)", got, 100-64)
	}
	floor.Store(90)
	add(20) // the reader caught up to 90: back to what it needs, then to the retention
	if got := first(); got > 90 {
		t.Fatalf("with the reader at 90, the store dropped up to %d", got)
	}
	floor.Store(math.MaxInt64) // no reader waits
	add(10)
	if got := first(); got < 130-4-1 {
		t.Fatalf("with no reader waiting, the first held is %d of 130, want the retention of 4 (and its slack)", got)
	}
}

// TestMemoryCursorsFloor: the floor is the lowest cursor of the sinks named (0 for one that
// never advanced), and no floor at all for no sink.
func TestMemoryCursorsFloor(t *testing.T) {
	ctx := context.Background()
	c := audit.NewMemoryCursors(nil)
	for _, s := range []string{"a", "b"} {
		if _, err := c.Claim(ctx, s, "me", 1<<40); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Advance(ctx, "a", "me", audit.SinkCursor{Pos: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Advance(ctx, "b", "me", audit.SinkCursor{Pos: 3}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sinks []string
		want  int64
	}{{[]string{"a"}, 7}, {[]string{"a", "b"}, 3}, {[]string{"a", "new"}, 0}, {nil, math.MaxInt64}} {
		if got := c.Floor(tc.sinks); got != tc.want {
			t.Errorf("Floor(%v) = %d, want %d", tc.sinks, got, tc.want)
		}
	}
}
